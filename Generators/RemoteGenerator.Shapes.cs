using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Neutral.Generators.Helpers;
using Neutral.Generators.Model;

namespace Neutral.Generators
{
    public sealed partial class RemoteGenerator
    {
        /// <summary>
        /// Turns types into codec plans: a <see cref="TypeRef"/> per use and a <see cref="TypeShape"/> per type that needs
        /// generated methods. Unsupported types, with the member path that reaches them, raise <see cref="UnsupportedTypeException"/>.
        /// </summary>
        internal sealed class ShapeBuilder
        {
            internal static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
                .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

            internal static readonly SymbolDisplayFormat DisplayFormat = SymbolDisplayFormat.FullyQualifiedFormat
                .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted);

            private readonly IAssemblySymbol _assembly;
            private readonly string _codecs;
            private readonly CancellationToken _cancellationToken;
            private readonly Dictionary<string, TypeShape> _shapes = new(StringComparer.Ordinal);
            private readonly Dictionary<string, (TypeRef Ref, string Description)> _memo = new(StringComparer.Ordinal);
            private readonly List<ITypeSymbol> _stack = new();

            public ShapeBuilder(IAssemblySymbol assembly, string codecsClassFq, CancellationToken cancellationToken)
            {
                _assembly = assembly;
                _codecs = codecsClassFq;
                _cancellationToken = cancellationToken;
            }

            public IEnumerable<TypeShape> Shapes => _shapes.Values.OrderBy(s => s.TypeFq, StringComparer.Ordinal);

            /// <summary>
            /// What a type analysed to in one compilation: its reference, its description and every shape it needs. The
            /// transform runs again for every method on every edit (the compilation is new), and most methods share their
            /// types: analysing each type once per compilation instead of once per method is most of a re-run's cost.
            /// Keyed by the compilation's own assembly symbol, so it lives as long as that compilation and never serves
            /// another; the analysis is a pure function of the compilation, so sharing it cannot change the output.
            /// </summary>
            private static readonly ConditionalWeakTable<IAssemblySymbol, ConcurrentDictionary<string, Analyzed>> s_analyzed = new();

            private sealed class Analyzed
            {
                public Analyzed((TypeRef Ref, string Description) result, TypeShape[] shapes)
                {
                    Result = result;
                    Shapes = shapes;
                }

                public (TypeRef Ref, string Description) Result { get; }

                public TypeShape[] Shapes { get; }
            }

            private static readonly ConditionalWeakTable<IAssemblySymbol, ConcurrentDictionary<(ITypeSymbol Type, SymbolDisplayFormat Format), string>> s_displays = new();

            /// <summary>A type's display string, once per compilation (<see cref="s_analyzed"/> says why a cache pays).</summary>
            public string Show(ITypeSymbol type, SymbolDisplayFormat format) =>
                s_displays.GetValue(_assembly, static _ => new(DisplayKeyComparer.Instance))
                    .GetOrAdd((type, format), static key => key.Type.ToDisplayString(key.Format));

            private sealed class DisplayKeyComparer : IEqualityComparer<(ITypeSymbol Type, SymbolDisplayFormat Format)>
            {
                public static readonly DisplayKeyComparer Instance = new();

                public bool Equals((ITypeSymbol Type, SymbolDisplayFormat Format) x, (ITypeSymbol Type, SymbolDisplayFormat Format) y) =>
                    ReferenceEquals(x.Format, y.Format) && SymbolEqualityComparer.IncludeNullability.Equals(x.Type, y.Type);

                public int GetHashCode((ITypeSymbol Type, SymbolDisplayFormat Format) obj) =>
                    SymbolEqualityComparer.IncludeNullability.GetHashCode(obj.Type);
            }

            /// <summary>Analyses a parameter or result type, through the compilation's cache (failures are not cached: their messages name the path).</summary>
            public (TypeRef Ref, string Description) AnalyzeRoot(ITypeSymbol type, string path)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                ITypeSymbol key = type.IsReferenceType && type.NullableAnnotation == NullableAnnotation.Annotated
                    ? type.WithNullableAnnotation(NullableAnnotation.NotAnnotated)
                    : type;
                string fq = Show(key, TypeFormat);
                ConcurrentDictionary<string, Analyzed> cache = s_analyzed.GetValue(_assembly, static _ => new ConcurrentDictionary<string, Analyzed>(StringComparer.Ordinal));
                if (!cache.TryGetValue(fq, out Analyzed? analyzed))
                {
                    var fresh = new ShapeBuilder(_assembly, _codecs, _cancellationToken);
                    var result = fresh.Analyze(type, path);
                    analyzed = cache.GetOrAdd(fq, new Analyzed(result, fresh._shapes.Values.ToArray()));
                }

                foreach (TypeShape shape in analyzed.Shapes)
                {
                    _shapes[shape.TypeFq] = shape;
                }

                _memo[fq] = analyzed.Result;
                return analyzed.Result;
            }

            public (TypeRef Ref, string Description) Analyze(ITypeSymbol type, string path)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                if (type.IsReferenceType && type.NullableAnnotation == NullableAnnotation.Annotated)
                {
                    type = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated);
                }

                string fq = type.ToDisplayString(TypeFormat);
                if (_memo.TryGetValue(fq, out var known))
                {
                    return known;
                }

                var result = AnalyzeCore(type, fq, path);
                _memo[fq] = result;
                return result;
            }

            private static string Display(ITypeSymbol type) => type.ToDisplayString(DisplayFormat);

            private (TypeRef, string) AnalyzeCore(ITypeSymbol type, string fq, string path)
            {
                if (Primitive(type) is { } primitive)
                {
                    return primitive;
                }

                switch (type)
                {
                    case IArrayTypeSymbol array:
                        return AnalyzeArray(array, fq, path);
                    case ITypeParameterSymbol:
                        throw Unsupported(path, $"{Display(type)} is a type parameter; remote types must be concrete");
                    case IPointerTypeSymbol or IFunctionPointerTypeSymbol:
                        throw Unsupported(path, $"{Display(type)} is a pointer");
                    case IDynamicTypeSymbol:
                        throw Unsupported(path, "dynamic is not serializable");
                }

                if (type is not INamedTypeSymbol named || type.TypeKind == TypeKind.Error)
                {
                    throw Unsupported(path, $"{Display(type)} is not serializable");
                }

                if (named.TypeKind == TypeKind.Enum)
                {
                    var underlying = Primitive(named.EnumUnderlyingType!)!.Value;
                    string cast = underlying.Ref.TypeFq;
                    return (new TypeRef(fq, underlying.Ref.WriteFormat.Replace("{0}", $"({cast}){{0}}"), $"({fq}){underlying.Ref.ReadExpression}", underlying.Ref.MinimumSize, false),
                        $"enum {Display(type)}:{underlying.Item2}");
                }

                string? generic = named.IsGenericType ? MetadataName(named.ConstructedFrom) : null;
                switch (generic)
                {
                    case "System.Nullable`1":
                        return AnalyzeNullable(named, fq, path);
                    case "System.Collections.Generic.List`1":
                    case "System.Collections.Generic.IList`1":
                    case "System.Collections.Generic.ICollection`1":
                    case "System.Collections.Generic.IEnumerable`1":
                    case "System.Collections.Generic.IReadOnlyList`1":
                    case "System.Collections.Generic.IReadOnlyCollection`1":
                        return AnalyzeSequence(named, fq, path, ShapeKind.List, generic == "System.Collections.Generic.List`1");
                    case "System.Collections.Generic.HashSet`1":
                    case "System.Collections.Generic.ISet`1":
                    case "System.Collections.Generic.IReadOnlySet`1":
                        return AnalyzeSequence(named, fq, path, ShapeKind.Set, false);
                    case "System.Collections.Generic.Dictionary`2":
                    case "System.Collections.Generic.IDictionary`2":
                    case "System.Collections.Generic.IReadOnlyDictionary`2":
                        return AnalyzeDictionary(named, fq, path);
                    case "Neutral.Shared`1":
                        throw Unsupported(path, "Shared<T> is supported only as a parameter of a remote method, not inside another type");
                }

                if (named.IsTupleType || generic is not null && generic.StartsWith("System.Tuple`", StringComparison.Ordinal))
                {
                    return AnalyzeTuple(named, fq, path);
                }

                return AnalyzeObject(named, fq, path);
            }

            private static string MetadataName(INamedTypeSymbol type)
            {
                string ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() + "." : string.Empty;
                return ns + type.MetadataName;
            }

            private static (TypeRef Ref, string Description)? Primitive(ITypeSymbol type)
            {
                (string Method, int Size)? p = type.SpecialType switch
                {
                    SpecialType.System_Boolean => ("Boolean", 1),
                    SpecialType.System_Byte => ("Byte", 1),
                    SpecialType.System_SByte => ("SByte", 1),
                    SpecialType.System_Int16 => ("Int16", 2),
                    SpecialType.System_UInt16 => ("UInt16", 2),
                    SpecialType.System_Char => ("Char", 2),
                    SpecialType.System_Int32 => ("Int32", 4),
                    SpecialType.System_UInt32 => ("UInt32", 4),
                    SpecialType.System_Int64 => ("Int64", 8),
                    SpecialType.System_UInt64 => ("UInt64", 8),
                    SpecialType.System_Single => ("Single", 4),
                    SpecialType.System_Double => ("Double", 8),
                    SpecialType.System_Decimal => ("Decimal", 16),
                    SpecialType.System_DateTime => ("DateTime", 9),
                    _ => null,
                };
                if (p is null && type is INamedTypeSymbol { ContainingNamespace: { } ns } named && !named.IsGenericType)
                {
                    string full = ns.ToDisplayString() + "." + named.Name;
                    p = full switch
                    {
                        "System.DateTimeOffset" => ("DateTimeOffset", 10),
                        "System.TimeSpan" => ("TimeSpan", 8),
                        "System.Guid" => ("Guid", 16),
                        "System.DateOnly" => ("DateOnly", 4),
                        "System.TimeOnly" => ("TimeOnly", 8),
                        _ => null,
                    };
                    if (full == "Neutral.Unit")
                    {
                        return (new TypeRef("global::Neutral.Unit", string.Empty, "default(global::Neutral.Unit)", 0, false), "unit");
                    }
                }

                if (type.SpecialType == SpecialType.System_String)
                {
                    return (new TypeRef("string", "writer.WriteString({0});", "reader.ReadString()!", 4, true), "string");
                }

                if (p is null)
                {
                    return null;
                }

                string fq = type.ToDisplayString(TypeFormat);
                return (new TypeRef(fq, $"writer.Write{p.Value.Method}({{0}});", $"reader.Read{p.Value.Method}()", p.Value.Size, false), p.Value.Method);
            }

            /// <summary>Numbers and enums: their arrays and lists travel as one block copy.</summary>
            private static bool IsBlockCopyable(ITypeSymbol type)
            {
                if (type.TypeKind == TypeKind.Enum)
                {
                    return true;
                }

                return type.SpecialType is SpecialType.System_Byte or SpecialType.System_SByte or SpecialType.System_Int16
                    or SpecialType.System_UInt16 or SpecialType.System_Char or SpecialType.System_Int32 or SpecialType.System_UInt32
                    or SpecialType.System_Int64 or SpecialType.System_UInt64 or SpecialType.System_Single or SpecialType.System_Double;
            }

            private (TypeRef, string) AnalyzeArray(IArrayTypeSymbol array, string fq, string path)
            {
                if (!array.IsSZArray)
                {
                    throw Unsupported(path, $"{Display(array)} is a multi-dimensional array; use a jagged array or a flat one");
                }

                var element = Analyze(array.ElementType, path + "[]");
                if (IsBlockCopyable(array.ElementType))
                {
                    string t = element.Ref.TypeFq;
                    return (new TypeRef(fq, $"writer.WriteUnmanagedArray<{t}>({{0}});", $"reader.ReadUnmanagedArray<{t}>()!", 4, true), element.Description + "[]");
                }

                return (AddShape(array, fq, ShapeKind.Array, members: null, ctorCount: 0, element.Ref, null, null, false, array.ElementType.ToDisplayString(TypeFormat)), element.Description + "[]");
            }

            private (TypeRef, string) AnalyzeNullable(INamedTypeSymbol type, string fq, string path)
            {
                var element = Analyze(type.TypeArguments[0], path);
                return (AddShape(type, fq, ShapeKind.Nullable, null, 0, element.Ref, null, null, false, null), element.Description + "?");
            }

            private (TypeRef, string) AnalyzeSequence(INamedTypeSymbol type, string fq, string path, ShapeKind kind, bool isList)
            {
                ITypeSymbol elementType = type.TypeArguments[0];
                var element = Analyze(elementType, path + "[]");
                string kindName = kind == ShapeKind.Set ? "set" : "list";
                if (isList && IsBlockCopyable(elementType))
                {
                    string t = element.Ref.TypeFq;
                    return (new TypeRef(fq, $"writer.WriteUnmanagedList<{t}>({{0}});", $"reader.ReadUnmanagedList<{t}>()!", 4, true), $"{kindName}<{element.Description}>");
                }

                string declared = elementType.ToDisplayString(TypeFormat);
                string concrete = kind == ShapeKind.Set
                    ? $"global::System.Collections.Generic.HashSet<{declared}>"
                    : $"global::System.Collections.Generic.List<{declared}>";
                bool usesCount = type.TypeKind == TypeKind.Interface;
                return (AddShape(type, fq, kind, null, 0, element.Ref, null, concrete, usesCount, declared), $"{kindName}<{element.Description}>");
            }

            private (TypeRef, string) AnalyzeDictionary(INamedTypeSymbol type, string fq, string path)
            {
                var key = Analyze(type.TypeArguments[0], path + ".Key");
                var value = Analyze(type.TypeArguments[1], path + ".Value");
                string concrete = $"global::System.Collections.Generic.Dictionary<{type.TypeArguments[0].ToDisplayString(TypeFormat)}, {type.TypeArguments[1].ToDisplayString(TypeFormat)}>";
                return (AddShape(type, fq, ShapeKind.Dictionary, null, 0, key.Ref, value.Ref, concrete, false, null), $"map<{key.Description},{value.Description}>");
            }

            private (TypeRef, string) AnalyzeTuple(INamedTypeSymbol type, string fq, string path)
            {
                var elements = type.IsTupleType ? type.TupleElements.Select(e => e.Type).ToArray() : type.TypeArguments.ToArray();
                if (elements.Length > 7 || (type.IsTupleType && elements.Length < 2))
                {
                    throw Unsupported(path, $"{Display(type)} has {elements.Length} elements; tuples of 2 to 7 elements are supported");
                }

                var members = new List<MemberShape>();
                var descriptions = new List<string>();
                for (int i = 0; i < elements.Length; i++)
                {
                    string item = "Item" + (i + 1).ToString(CultureInfo.InvariantCulture);
                    var element = Analyze(elements[i], path + "." + item);
                    members.Add(new MemberShape(item, element.Ref, i));
                    descriptions.Add(element.Description);
                }

                string description = (type.IsReferenceType ? "tuple(" : "(") + string.Join(",", descriptions) + ")";
                return (AddShape(type, fq, ShapeKind.Tuple, members, members.Count, null, null, null, false, null), description);
            }

            private (TypeRef, string) AnalyzeObject(INamedTypeSymbol type, string fq, string path)
            {
                string display = Display(type);
                string ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : string.Empty;
                if (ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal) || ns.StartsWith("Microsoft.", StringComparison.Ordinal)
                    || type.SpecialType == SpecialType.System_Object)
                {
                    throw Unsupported(path, $"{display} is not serializable{Alternatives(type)}");
                }

                if (type.TypeKind is TypeKind.Interface or TypeKind.Delegate || type.IsAbstract)
                {
                    throw Unsupported(path, $"{display} is not serializable (an {(type.TypeKind == TypeKind.Delegate ? "delegate" : "interface or abstract type")} has no concrete shape to decode)");
                }

                if (type.IsRefLikeType)
                {
                    throw Unsupported(path, $"{display} is not serializable (a ref struct cannot be stored)");
                }

                if (type.TypeKind is not (TypeKind.Class or TypeKind.Struct))
                {
                    throw Unsupported(path, $"{display} is not serializable");
                }

                if (!IsAccessible(type))
                {
                    throw Unsupported(path, $"{display} is not serializable (it is not accessible to generated code: make it public or internal)");
                }

                if (_stack.Any(t => SymbolEqualityComparer.Default.Equals(t, type)))
                {
                    throw Unsupported(path, $"{display} refers to itself; recursive types cannot be serialized (the cycle is {string.Join(" -> ", _stack.Select(Display).Concat(new[] { display }))})");
                }

                _stack.Add(type);
                try
                {
                    return AnalyzeMembers(type, fq, path, display);
                }
                finally
                {
                    _stack.RemoveAt(_stack.Count - 1);
                }
            }

            private (TypeRef, string) AnalyzeMembers(INamedTypeSymbol type, string fq, string path, string display)
            {
                // Instance members in declaration order, base types first.
                var chain = new List<INamedTypeSymbol>();
                for (INamedTypeSymbol? t = type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
                {
                    chain.Insert(0, t);
                }

                var candidates = new List<(string Name, ITypeSymbol Type, bool Writable)>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (INamedTypeSymbol t in chain)
                {
                    foreach (ISymbol member in t.GetMembers())
                    {
                        if (member.IsStatic || member.IsImplicitlyDeclared && member is not IPropertySymbol || !IsAccessible(member))
                        {
                            continue;
                        }

                        switch (member)
                        {
                            case IPropertySymbol { IsIndexer: false, GetMethod: { } getter } property
                                when property.Name != "EqualityContract" && IsAccessible(getter) && seen.Add(property.Name):
                                bool writable = property.SetMethod is { } setter && IsAccessible(setter);
                                candidates.Add((property.Name, property.Type, writable));
                                break;
                            case IFieldSymbol { IsConst: false, AssociatedSymbol: null } field when seen.Add(field.Name):
                                candidates.Add((field.Name, field.Type, !field.IsReadOnly));
                                break;
                        }
                    }
                }

                // The constructor with the most parameters whose every parameter matches a member by name and type.
                IMethodSymbol? chosen = null;
                int[]? chosenMap = null;
                foreach (IMethodSymbol ctor in type.InstanceConstructors.OrderByDescending(c => c.Parameters.Length))
                {
                    if (!IsAccessible(ctor) || IsCopyConstructor(type, ctor))
                    {
                        continue;
                    }

                    var map = new int[ctor.Parameters.Length];
                    bool ok = true;
                    for (int i = 0; i < ctor.Parameters.Length && ok; i++)
                    {
                        IParameterSymbol p = ctor.Parameters[i];
                        map[i] = candidates.FindIndex(c => string.Equals(c.Name, p.Name, StringComparison.OrdinalIgnoreCase)
                            && SymbolEqualityComparer.Default.Equals(c.Type, p.Type) && p.RefKind == RefKind.None);
                        ok = map[i] >= 0;
                    }

                    if (ok)
                    {
                        chosen = ctor;
                        chosenMap = map;
                        break;
                    }
                }

                if (chosen is null && type.TypeKind == TypeKind.Struct)
                {
                    chosenMap = Array.Empty<int>();
                }

                if (chosenMap is null)
                {
                    throw Unsupported(path, $"{display} is not serializable (no accessible constructor whose parameters all match its properties by name and type)");
                }

                var members = new List<MemberShape>();
                var descriptions = new List<string>();
                for (int i = 0; i < candidates.Count; i++)
                {
                    int ctorIndex = Array.IndexOf(chosenMap, i);
                    if (ctorIndex < 0 && !candidates[i].Writable)
                    {
                        continue; // a computed or get-only member: derived from the others
                    }

                    var member = Analyze(candidates[i].Type, path + "." + candidates[i].Name);
                    members.Add(new MemberShape(Escape(candidates[i].Name), member.Ref, ctorIndex));
                    descriptions.Add(candidates[i].Name + ":" + member.Description);
                }

                string description = display + "{" + string.Join(",", descriptions) + "}";
                return (AddShape(type, fq, ShapeKind.Object, members, chosenMap.Length, null, null, null, false, null), description);
            }

            private static bool IsCopyConstructor(INamedTypeSymbol type, IMethodSymbol ctor) =>
                ctor.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(ctor.Parameters[0].Type, type);

            private bool IsAccessible(ISymbol symbol)
            {
                for (ISymbol? s = symbol; s is not null and not INamespaceSymbol; s = s.ContainingType)
                {
                    bool ok = s.DeclaredAccessibility switch
                    {
                        Accessibility.Public => true,
                        Accessibility.Internal or Accessibility.ProtectedOrInternal => SymbolEqualityComparer.Default.Equals(s.ContainingAssembly, _assembly),
                        _ => false,
                    };
                    if (!ok)
                    {
                        return false;
                    }
                }

                return true;
            }

            private TypeRef AddShape(ITypeSymbol type, string fq, ShapeKind kind, List<MemberShape>? members, int ctorCount, TypeRef? element, TypeRef? value, string? concrete, bool usesCount, string? elementFq)
            {
                string suffix = Suffix(type, fq);
                bool isReference = type.IsReferenceType || kind == ShapeKind.Nullable;
                if (!_shapes.ContainsKey(fq))
                {
                    _shapes[fq] = new TypeShape(suffix, fq, kind, isReference, (members ?? new List<MemberShape>()).ToEquatableArray(), ctorCount, element, value, concrete, usesCount, elementFq);
                }

                int minimum = isReference ? (kind is ShapeKind.Array or ShapeKind.List or ShapeKind.Set or ShapeKind.Dictionary ? 4 : 1)
                    : members?.Sum(m => m.Type.MinimumSize) ?? 0;
                string bang = type.IsReferenceType ? "!" : string.Empty;
                return new TypeRef(fq, $"{_codecs}.Write_{suffix}(ref writer, {{0}});", $"{_codecs}.Read_{suffix}(ref reader){bang}", minimum, isReference);
            }

            /// <summary>A readable, collision-resistant method-name suffix: the type's short name plus a hash of its full name.</summary>
            private static string Suffix(ITypeSymbol type, string fq)
            {
                var name = new StringBuilder();
                foreach (char c in type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat))
                {
                    if (char.IsLetterOrDigit(c))
                    {
                        name.Append(c);
                    }
                    else if (name.Length > 0 && name[name.Length - 1] != '_')
                    {
                        name.Append('_');
                    }
                }

                string text = name.ToString().TrimEnd('_');
                if (text.Length > 40)
                {
                    text = text.Substring(0, 40);
                }

                return text + "_" + Hashing.Fnv1a32(fq).ToString("x8", CultureInfo.InvariantCulture);
            }

            internal static string Escape(string name) =>
                Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None ? "@" + name : name;

            private static UnsupportedTypeException Unsupported(string path, string reason) => new(path + ": " + reason);

            /// <summary>What to pass instead of a stream, a reader or writer, or a file: the alternatives a call can take.</summary>
            private static string Alternatives(INamedTypeSymbol type)
            {
                for (INamedTypeSymbol? t = type; t is not null; t = t.BaseType)
                {
                    switch (t.ToDisplayString())
                    {
                        case "System.IO.Stream":
                        case "System.IO.TextReader":
                        case "System.IO.TextWriter":
                        case "System.IO.FileSystemInfo":
                            return "; a call runs on another machine: pass the data as byte[] (or a string), or put it in the store "
                                + "(Cloud.Storage) and pass its key, or an ObjectChunk (key, offset, length) for a part of a stored object";
                    }
                }

                return string.Empty;
            }
        }

        internal sealed class UnsupportedTypeException : Exception
        {
            public UnsupportedTypeException(string message)
                : base(message)
            {
            }
        }
    }
}
