using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Neutral.Generators.Diagnostics;
using Neutral.Generators.Helpers;
using Neutral.Generators.Model;

namespace Neutral.Generators
{
    public sealed partial class RemoteGenerator
    {
        /// <summary>Must equal <c>Neutral.Codec.CodecInfo.Version</c> (a test checks): it is part of every signature hash.</summary>
        internal const int CodecVersion = 1;

        /// <summary>Symbols to models: static, pure, cancellable.</summary>
        internal static class Parser
        {
            public static MethodResult Parse(MethodDeclarationSyntax syntax, IMethodSymbol method, AttributeData attribute, CancellationToken cancellationToken)
            {
                var diagnostics = new List<DiagnosticInfo>();
                string codecs = "global::Neutral.Generated." + SanitizeIdentifier(method.ContainingAssembly.Name) + ".NeutralCodecs";
                var builder = new ShapeBuilder(method.ContainingAssembly, codecs, cancellationToken);
                string typeDisplay0 = builder.Show(method.ContainingType, ShapeBuilder.DisplayFormat);
                string display = typeDisplay0 + "." + method.Name;
                Location nameLocation = syntax.Identifier.GetLocation();

                void Report(DiagnosticDescriptor descriptor, Location? location, params string[] args) =>
                    diagnostics.Add(new DiagnosticInfo(descriptor.Id, location, args.ToEquatableArray()));

                if (!method.IsStatic)
                {
                    Report(DiagnosticDescriptors.MethodNotStatic, nameLocation, display);
                }

                if (method.IsGenericMethod)
                {
                    Report(DiagnosticDescriptors.GenericMethod, nameLocation, display);
                }

                var containing = new List<ContainingTypeModel>();
                for (INamedTypeSymbol? type = method.ContainingType; type is not null; type = type.ContainingType)
                {
                    string typeDisplay = builder.Show(type, ShapeBuilder.DisplayFormat);
                    if (type.IsGenericType)
                    {
                        Report(DiagnosticDescriptors.GenericContainingType, nameLocation, display, typeDisplay);
                    }

                    if (type.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal) || type.IsFileLocal)
                    {
                        Report(DiagnosticDescriptors.InaccessibleContainingType, nameLocation, display, typeDisplay, Describe(type));
                    }

                    containing.Insert(0, new ContainingTypeModel(ShapeBuilder.Escape(type.Name), type.DeclaredAccessibility == Accessibility.Public));
                }

                if (method.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
                {
                    Report(DiagnosticDescriptors.InaccessibleMethod, nameLocation, display, Describe(method));
                }

                // Attribute options.
                int? retries = null, timeout = null, memory = null;
                bool retryOnException = false;
                string? explicitId = null;
                foreach (var named in attribute.NamedArguments)
                {
                    switch (named.Key)
                    {
                        case "Retries": retries = named.Value.Value as int?; break;
                        case "TimeoutSeconds": timeout = named.Value.Value as int?; break;
                        case "MemoryMb": memory = named.Value.Value as int?; break;
                        case "RetryOnException": retryOnException = named.Value.Value is true; break;
                        case "Id": explicitId = named.Value.Value as string ?? string.Empty; break;
                    }
                }

                // The options are constants: a value the executor could only misuse (an attempt abandoned as it starts,
                // a worker sized at nothing, a negative retry budget) is an error here rather than a puzzle at run time.
                foreach (var named in attribute.NamedArguments)
                {
                    string? problem = (named.Key, named.Value.Value) switch
                    {
                        ("Retries", int n) when n is < 0 or > 100 => "a call's retries are 0 to 100, as Job:Retries (0: one attempt only)",
                        ("TimeoutSeconds", int n) when n is < 1 or > 604_800 => "an attempt's time limit is 1 to 604,800 seconds (7 days), as Job:TimeoutSeconds",
                        ("MemoryMb", int n) when n < 1 => "a worker's memory is at least 1 MiB (leave it out for the provider's default)",
                        _ => null,
                    };
                    if (problem is not null)
                    {
                        Report(DiagnosticDescriptors.InvalidOption, OptionLocation(attribute, named.Key, cancellationToken), display, named.Key,
                            ((int)named.Value.Value!).ToString(CultureInfo.InvariantCulture), problem);
                    }
                }

                if (explicitId is not null && (explicitId.Length == 0 || explicitId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
                {
                    Report(DiagnosticDescriptors.InvalidId, attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation(), display, explicitId);
                }

                var parameters = new List<ParameterModel>();
                var hashInput = new StringBuilder();
                for (int i = 0; i < method.Parameters.Length; i++)
                {
                    IParameterSymbol parameter = method.Parameters[i];
                    Location? location = parameter.Locations.FirstOrDefault();
                    string? modifier = parameter.RefKind switch
                    {
                        RefKind.Ref => "ref",
                        RefKind.Out => "out",
                        RefKind.In => "in",
                        RefKind.RefReadOnlyParameter => "ref readonly",
                        _ => parameter.IsParams ? "params" : parameter.Type is IPointerTypeSymbol or IFunctionPointerTypeSymbol ? "as a pointer" : null,
                    };
                    if (modifier is not null)
                    {
                        Report(DiagnosticDescriptors.UnsupportedParameterModifier, location, display, parameter.Name, modifier);
                        continue;
                    }

                    string name = ShapeBuilder.Escape(parameter.Name);
                    string declared = builder.Show(parameter.Type, ShapeBuilder.TypeFormat);
                    string typeName = FullName(parameter.Type);
                    if (typeName == "Neutral.RemoteContext")
                    {
                        parameters.Add(new ParameterModel(name, declared, ParameterKind.Context, null, null));
                        hashInput.Append("context;");
                        continue;
                    }

                    if (typeName == "System.Threading.CancellationToken")
                    {
                        parameters.Add(new ParameterModel(name, declared, ParameterKind.CancellationToken, null, null));
                        hashInput.Append("cancellation;");
                        continue;
                    }

                    try
                    {
                        if (parameter.Type is INamedTypeSymbol { IsGenericType: true } shared && FullName(shared.ConstructedFrom) == "Neutral.Shared`1")
                        {
                            var element = builder.AnalyzeRoot(shared.TypeArguments[0], parameter.Name + ".Value");
                            string fq = shared.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(ShapeBuilder.TypeFormat);
                            var reference = new TypeRef(fq, "writer.WriteString({0}.Key);", $"global::Neutral.Shared<{element.Ref.TypeFq}>.FromKey(reader.ReadNonNullString())", 4, true);
                            parameters.Add(new ParameterModel(name, declared, ParameterKind.Shared, reference, element.Ref));
                            hashInput.Append("shared<").Append(element.Description).Append(">;");
                        }
                        else
                        {
                            var registered = EquatableArray<TypeRef>.Empty;
                            if (parameter.Type is INamedTypeSymbol { IsGenericType: true } shuffle
                                && FullName(shuffle.ConstructedFrom) is "Neutral.Shuffle`2" or "Neutral.ShufflePartition`2")
                            {
                                // A shuffle writes and reads its keys and values with codecs it finds at run time.
                                // Analyzed before the shuffle itself: a key type the codec cannot write is then
                                // reported as {parameter}.TKey, not as the Boundaries member that holds keys.
                                registered = new[]
                                {
                                    builder.AnalyzeRoot(shuffle.TypeArguments[0], parameter.Name + ".TKey").Ref,
                                    builder.AnalyzeRoot(shuffle.TypeArguments[1], parameter.Name + ".TValue").Ref,
                                }.ToEquatableArray();
                            }

                            var analyzed = builder.AnalyzeRoot(parameter.Type, TypeLabel(builder, parameter.Type));
                            // An array's elements may each be another call's result (a fan-in): the stub writes them one by one.
                            TypeRef? arrayElement = parameter.Type is IArrayTypeSymbol { IsSZArray: true } array
                                ? builder.AnalyzeRoot(array.ElementType, TypeLabel(builder, parameter.Type) + "[]").Ref
                                : null;
                            parameters.Add(new ParameterModel(name, declared, ParameterKind.Value, analyzed.Ref, null, registered, arrayElement));
                            hashInput.Append(analyzed.Description).Append(';');
                        }
                    }
                    catch (UnsupportedTypeException e)
                    {
                        Report(DiagnosticDescriptors.UnsupportedParameterType, location, display, parameter.Name, e.Message);
                    }
                }

                // Result.
                ITypeSymbol returnType = method.ReturnType;
                ReturnKind returnKind = ReturnKind.Value;
                ITypeSymbol? resultType = returnType;
                string returnName = FullName(returnType is INamedTypeSymbol { IsGenericType: true } g ? g.ConstructedFrom : returnType);
                switch (returnName)
                {
                    case "System.Void": returnKind = ReturnKind.Void; resultType = null; break;
                    case "System.Threading.Tasks.Task": returnKind = ReturnKind.Task; resultType = null; break;
                    case "System.Threading.Tasks.ValueTask": returnKind = ReturnKind.ValueTask; resultType = null; break;
                    case "System.Threading.Tasks.Task`1": returnKind = ReturnKind.TaskOfT; resultType = ((INamedTypeSymbol)returnType).TypeArguments[0]; break;
                    case "System.Threading.Tasks.ValueTask`1": returnKind = ReturnKind.ValueTaskOfT; resultType = ((INamedTypeSymbol)returnType).TypeArguments[0]; break;
                }

                TypeRef? result = null;
                string resultDescription = "unit";
                if (resultType is null)
                {
                    result = new TypeRef("global::Neutral.Unit", string.Empty, "default(global::Neutral.Unit)", 0, false);
                }
                else
                {
                    try
                    {
                        if (resultType is INamedTypeSymbol { IsGenericType: true } shared && FullName(shared.ConstructedFrom) == "Neutral.Shared`1")
                        {
                            throw new UnsupportedTypeException(TypeLabel(builder, resultType) + ": Shared<T> is supported only as a parameter; return the value itself");
                        }

                        var analyzed = builder.AnalyzeRoot(resultType, TypeLabel(builder, resultType));
                        result = analyzed.Ref;
                        resultDescription = analyzed.Description;
                    }
                    catch (UnsupportedTypeException e)
                    {
                        Report(DiagnosticDescriptors.UnsupportedReturnType, syntax.ReturnType.GetLocation(), display, e.Message);
                    }
                }

                string canonical = typeDisplay0 + "." + method.Name + "("
                    + string.Join(",", method.Parameters.Select(p => builder.Show(p.Type, ShapeBuilder.DisplayFormat))) + ")";
                string id = explicitId ?? canonical;
                var idInfo = new FunctionIdInfo(id, display, nameLocation);
                if (diagnostics.Count > 0 || result is null)
                {
                    return new MethodResult(null, idInfo, diagnostics.ToEquatableArray());
                }

                string hashText = "neutral-codec:" + CodecVersion.ToString(CultureInfo.InvariantCulture) + "\n" + id + "\n" + canonical + "\n" + hashInput + "\n->" + resultDescription;
                var model = new RemoteMethodModel(
                    method.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : string.Empty,
                    containing.ToEquatableArray(),
                    builder.Show(method.ContainingType, ShapeBuilder.TypeFormat),
                    ShapeBuilder.Escape(method.Name),
                    id,
                    Hashing.Fnv1a64(hashText),
                    returnKind,
                    result,
                    parameters.ToEquatableArray(),
                    builder.Shapes.ToEquatableArray(),
                    retries,
                    timeout,
                    memory,
                    retryOnException,
                    DocumentationLines(syntax, method).ToEquatableArray(),
                    codecs);
                return new MethodResult(model, idInfo, EquatableArray<DiagnosticInfo>.Empty);
            }

            private static string Describe(ISymbol symbol) => symbol.IsFileLocal() ? "file-local" : symbol.DeclaredAccessibility switch
            {
                Accessibility.Private => "private",
                Accessibility.Protected => "protected",
                Accessibility.ProtectedAndInternal => "private protected",
                Accessibility.ProtectedOrInternal => "protected internal",
                _ => symbol.DeclaredAccessibility.ToString().ToLowerInvariant(),
            };

            /// <summary><c>Namespace.MetadataName</c>, from the names alone (far cheaper than a display string; it runs per parameter per edit).</summary>
            private static string FullName(ITypeSymbol type)
            {
                if (type.ContainingNamespace is not { IsGlobalNamespace: false } ns)
                {
                    return type.MetadataName;
                }

                var parts = new List<string> { type.MetadataName };
                for (; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
                {
                    parts.Add(ns.Name);
                }

                parts.Reverse();
                return string.Join(".", parts);
            }

            /// <summary>Where <c>Name = value</c> is written in the attribute, else the attribute itself.</summary>
            private static Location? OptionLocation(AttributeData attribute, string name, CancellationToken cancellationToken)
            {
                SyntaxNode? syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken);
                AttributeArgumentSyntax? argument = (syntax as AttributeSyntax)?.ArgumentList?.Arguments
                    .FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
                return (argument as SyntaxNode ?? syntax)?.GetLocation();
            }

            /// <summary>The start of a member path in messages: the type's short name.</summary>
            private static string TypeLabel(ShapeBuilder builder, ITypeSymbol type) => builder.Show(type, SymbolDisplayFormat.MinimallyQualifiedFormat);

            internal static string SanitizeIdentifier(string name)
            {
                var builder = new StringBuilder(name.Length + 1);
                foreach (char c in name)
                {
                    builder.Append(char.IsLetterOrDigit(c) || c == '_' ? c : '_');
                }

                if (builder.Length == 0 || char.IsDigit(builder[0]))
                {
                    builder.Insert(0, '_');
                }

                return builder.ToString();
            }

            /// <summary>The method's own /// lines, less the &lt;param&gt; lines of parameters the stub omits.</summary>
            private static IEnumerable<string> DocumentationLines(MethodDeclarationSyntax syntax, IMethodSymbol method)
            {
                var omitted = method.Parameters
                    .Where(p => FullName(p.Type) is "Neutral.RemoteContext" or "System.Threading.CancellationToken")
                    .Select(p => "<param name=\"" + p.Name + "\">")
                    .ToArray();
                foreach (SyntaxTrivia trivia in syntax.GetLeadingTrivia())
                {
                    if (!trivia.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia))
                    {
                        continue;
                    }

                    string text = trivia.ToFullString();
                    foreach (string raw in text.Replace("\r\n", "\n").Split('\n'))
                    {
                        string line = raw.Trim();
                        if (line.Length == 0)
                        {
                            continue;
                        }

                        if (!line.StartsWith("///", StringComparison.Ordinal))
                        {
                            line = "/// " + line;
                        }

                        if (omitted.Any(o => line.IndexOf(o, StringComparison.Ordinal) >= 0))
                        {
                            continue;
                        }

                        yield return line;
                    }
                }
            }
        }
    }

    internal static class SymbolExtensions
    {
        public static bool IsFileLocal(this ISymbol symbol) => symbol is INamedTypeSymbol { IsFileLocal: true };
    }
}
