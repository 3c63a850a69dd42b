using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Neutral.Generators.Diagnostics
{
    /// <summary>Every diagnostic the generator reports. Ids are never renumbered; add new ones at the end.</summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "Neutral";

        public static readonly DiagnosticDescriptor MethodNotStatic = new(
            "NEU1001",
            "Remote method must be static",
            "Remote method '{0}' must be static: a remote call has no instance to run on",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor GenericMethod = new(
            "NEU1002",
            "Remote method must not be generic",
            "Remote method '{0}' must not be generic: the worker needs concrete types to decode its arguments",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor UnsupportedParameterModifier = new(
            "NEU1003",
            "Remote parameters are passed by value",
            "Parameter '{1}' of remote method '{0}' is declared {2}; remote parameters are passed by value, so ref, out, in, params and pointers are not allowed",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor UnsupportedParameterType = new(
            "NEU1004",
            "Remote parameter type cannot be serialized",
            "Parameter '{1}' of remote method '{0}' cannot be serialized: {2}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor UnsupportedReturnType = new(
            "NEU1005",
            "Remote return type cannot be serialized",
            "The result of remote method '{0}' cannot be serialized: {1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InaccessibleContainingType = new(
            "NEU1006",
            "Remote method's containing type is not accessible",
            "Remote method '{0}' is in type '{1}', which is {2}; the generated stub and dispatch table need it to be public or internal",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InaccessibleMethod = new(
            "NEU1007",
            "Remote method is not accessible",
            "Remote method '{0}' is {1}; the generated stub and dispatch table need it to be public or internal",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor DuplicateId = new(
            "NEU1008",
            "Duplicate remote function id",
            "Remote function id '{0}' of '{1}' is already used by '{2}'; give one of them another [Remote(Id = ...)]",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor GenericContainingType = new(
            "NEU1009",
            "Remote method must not be in a generic type",
            "Remote method '{0}' is in generic type '{1}'; remote methods must be in non-generic types",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InvalidId = new(
            "NEU1010",
            "Invalid explicit remote function id",
            "The explicit id '{1}' of remote method '{0}' is invalid: it must be non-empty and hold no control characters or whitespace",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InvalidOption = new(
            "NEU1012",
            "Invalid remote method option",
            "{1} = {2} on remote method '{0}' is invalid: {3}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>Reported by <see cref="RemoteArgumentAnalyzer"/>, not the generator: a stub call is bound after generation.</summary>
        public static readonly DiagnosticDescriptor MismatchedRemoteArgument = new(
            "NEU1013",
            "Remote result passed where another type is expected",
            "Argument '{0}' of '{1}' takes {2}, but this is the result of a remote call that returns {3}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly IReadOnlyDictionary<string, DiagnosticDescriptor> ById = new[]
        {
            MethodNotStatic, GenericMethod, UnsupportedParameterModifier, UnsupportedParameterType, UnsupportedReturnType,
            InaccessibleContainingType, InaccessibleMethod, DuplicateId, GenericContainingType, InvalidId, InvalidOption,
            MismatchedRemoteArgument,
        }.ToDictionary(d => d.Id);
    }
}
