using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Reflection;
using System.Reflection.Metadata;
using System.Threading;
using Microsoft.CodeAnalysis;
using Neutral.Generators.Helpers;
using Neutral.Generators.Model;

namespace Neutral.Generators
{
    public sealed partial class RemoteGenerator
    {
        /// <summary>
        /// One metadata reference to what an executable registers from it. Runs once per reference object (the driver
        /// caches by reference identity), never per edit, and reads the metadata tables directly instead of binding
        /// the assembly's symbols.
        /// </summary>
        internal static class ReferenceScanner
        {
            private const string LocalWorkerNamespace = "Neutral.Workers.Local";
            private const string LocalWorkerName = "LocalWorker";
            private const string ServeMethod = "RunIfWorkerProcess";

            public static ReferenceModel Scan(MetadataReference reference, CancellationToken cancellationToken)
            {
                cancellationToken.ThrowIfCancellationRequested();
                switch (reference)
                {
                    case PortableExecutableReference pe:
                        try
                        {
                            return pe.GetMetadata() is AssemblyMetadata assembly
                                ? ScanMetadata(assembly.GetModules()[0].GetMetadataReader(), cancellationToken)
                                : ReferenceModel.None;
                        }
                        catch (Exception e) when (e is IOException or BadImageFormatException or InvalidOperationException or NotSupportedException)
                        {
                            // The compiler reports unreadable references itself.
                            return ReferenceModel.None;
                        }

                    case CompilationReference compilation:
                        // In the IDE a referenced project can be a compilation rather than a file.
                        return ScanAssembly(compilation.Compilation.Assembly);
                    default:
                        return ReferenceModel.None;
                }
            }

            private static ReferenceModel ScanMetadata(MetadataReader reader, CancellationToken cancellationToken)
            {
                if (!reader.IsAssembly)
                {
                    return ReferenceModel.None;
                }

                // Registrations, provider attributes and the local worker all live in assemblies built against
                // Neutral.Abstractions: the framework's hundred-odd references are dismissed by their reference lists
                // alone, without reading their thousands of type definitions.
                if (!ReferencesAbstractions(reader))
                {
                    return ReferenceModel.None;
                }

                string assemblyName = reader.GetString(reader.GetAssemblyDefinition().Name);
                string registrationNamespace = "Neutral.Generated." + Parser.SanitizeIdentifier(assemblyName);
                var found = new List<string>();
                bool servesWorkers = false;
                foreach (TypeDefinitionHandle handle in reader.TypeDefinitions)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    TypeDefinition type = reader.GetTypeDefinition(handle);
                    if (reader.StringComparer.Equals(type.Name, "NeutralRegistration")
                        && reader.StringComparer.Equals(type.Namespace, registrationNamespace)
                        && (type.Attributes & TypeAttributes.VisibilityMask) == TypeAttributes.Public)
                    {
                        found.Add("global::" + registrationNamespace + ".NeutralRegistration");
                    }
                    else if (reader.StringComparer.Equals(type.Name, LocalWorkerName) && reader.StringComparer.Equals(type.Namespace, LocalWorkerNamespace))
                    {
                        foreach (MethodDefinitionHandle method in type.GetMethods())
                        {
                            servesWorkers |= reader.StringComparer.Equals(reader.GetMethodDefinition(method).Name, ServeMethod);
                        }
                    }
                }

                // Provider packages name their registration type: configuration alone then selects them, with no
                // assembly scanning at run time.
                foreach (CustomAttributeHandle handle in reader.GetAssemblyDefinition().GetCustomAttributes())
                {
                    CustomAttribute attribute = reader.GetCustomAttribute(handle);
                    if (IsProviderAttribute(reader, attribute) && ProviderType(reader, attribute) is { } registration)
                    {
                        found.Add(registration);
                    }
                }

                return new ReferenceModel(found.ToEquatableArray(), servesWorkers);
            }

            private static bool ReferencesAbstractions(MetadataReader reader)
            {
                foreach (AssemblyReferenceHandle handle in reader.AssemblyReferences)
                {
                    if (reader.StringComparer.Equals(reader.GetAssemblyReference(handle).Name, "Neutral.Abstractions"))
                    {
                        return true;
                    }
                }

                return false;
            }

            private static bool IsProviderAttribute(MetadataReader reader, CustomAttribute attribute)
            {
                if (attribute.Constructor.Kind != HandleKind.MemberReference)
                {
                    return false;
                }

                EntityHandle parent = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent;
                if (parent.Kind != HandleKind.TypeReference)
                {
                    return false;
                }

                TypeReference type = reader.GetTypeReference((TypeReferenceHandle)parent);
                return reader.StringComparer.Equals(type.Name, "NeutralProviderAttribute") && reader.StringComparer.Equals(type.Namespace, "Neutral");
            }

            /// <summary>The <c>typeof</c> argument, when it is a public (or nested public) non-generic type of this assembly.</summary>
            private static string? ProviderType(MetadataReader reader, CustomAttribute attribute)
            {
                BlobReader blob = reader.GetBlobReader(attribute.Value);
                if (blob.Length < 3 || blob.ReadUInt16() != 1)
                {
                    return null;
                }

                string? serialized = blob.ReadSerializedString();
                if (serialized is null || serialized.IndexOf(',') >= 0 || serialized.IndexOf('`') >= 0 || serialized.IndexOf('[') >= 0)
                {
                    // A type of another assembly or a generic type: not a registration class this generator can call.
                    return null;
                }

                string[] parts = serialized.Split('+');
                int dot = parts[0].LastIndexOf('.');
                string ns = dot < 0 ? string.Empty : parts[0].Substring(0, dot);
                TypeDefinitionHandle current = default;
                for (int i = 0; i < parts.Length; i++)
                {
                    string name = i == 0 ? parts[0].Substring(dot + 1) : parts[i];
                    current = Find(reader, current, ns, name);
                    if (current.IsNil)
                    {
                        return null;
                    }

                    TypeAttributes visibility = reader.GetTypeDefinition(current).Attributes & TypeAttributes.VisibilityMask;
                    if (visibility is not (TypeAttributes.Public or TypeAttributes.NestedPublic))
                    {
                        return null;
                    }
                }

                return "global::" + serialized.Replace('+', '.');
            }

            private static TypeDefinitionHandle Find(MetadataReader reader, TypeDefinitionHandle declaring, string ns, string name)
            {
                IEnumerable<TypeDefinitionHandle> candidates = declaring.IsNil ? reader.TypeDefinitions : reader.GetTypeDefinition(declaring).GetNestedTypes();
                foreach (TypeDefinitionHandle handle in candidates)
                {
                    TypeDefinition type = reader.GetTypeDefinition(handle);
                    if (reader.StringComparer.Equals(type.Name, name)
                        && (declaring.IsNil ? type.GetDeclaringType().IsNil && reader.StringComparer.Equals(type.Namespace, ns) : true))
                    {
                        return handle;
                    }
                }

                return default;
            }

            private static ReferenceModel ScanAssembly(IAssemblySymbol assembly)
            {
                var found = new List<string>();
                string name = "Neutral.Generated." + Parser.SanitizeIdentifier(assembly.Name) + ".NeutralRegistration";
                if (assembly.GetTypeByMetadataName(name) is { DeclaredAccessibility: Accessibility.Public })
                {
                    found.Add("global::" + name);
                }

                foreach (AttributeData attribute in assembly.GetAttributes())
                {
                    if (attribute.AttributeClass?.ToDisplayString() == "Neutral.NeutralProviderAttribute"
                        && attribute.ConstructorArguments.Length == 1
                        && attribute.ConstructorArguments[0].Value is INamedTypeSymbol { DeclaredAccessibility: Accessibility.Public } registration)
                    {
                        found.Add(registration.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat));
                    }
                }

                bool servesWorkers = assembly.GetTypeByMetadataName(LocalWorkerNamespace + "." + LocalWorkerName)?.GetMembers(ServeMethod).Length > 0;
                return new ReferenceModel(found.ToEquatableArray(), servesWorkers);
            }

            /// <summary>The executable's model: every reference's registrations, sorted and distinct.</summary>
            public static ExecutableModel? Merge(ImmutableArray<ReferenceModel> references, bool isExecutable)
            {
                if (!isExecutable)
                {
                    return null;
                }

                var registrations = new SortedSet<string>(StringComparer.Ordinal);
                bool servesWorkers = false;
                foreach (ReferenceModel reference in references)
                {
                    registrations.UnionWith(reference.Registrations);
                    servesWorkers |= reference.ServesWorkers;
                }

                return new ExecutableModel(registrations.ToEquatableArray(), servesWorkers);
            }
        }
    }
}
