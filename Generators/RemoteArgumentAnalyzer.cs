using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Neutral.Generators.Diagnostics;

namespace Neutral.Generators
{
    /// <summary>
    /// NEU1013: a stub call that passes another call's result (a <c>RemoteRef&lt;X&gt;</c>, such as a
    /// <c>RemoteFuture&lt;X&gt;</c>, or an array of them) where the parameter takes another type. The compiler refuses the
    /// call already (no overload fits); this names the argument and both types. A generator cannot bind calls of the
    /// stubs it makes, so this is an analyzer.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class RemoteArgumentAnalyzer : DiagnosticAnalyzer
    {
        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.MismatchedRemoteArgument);

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(start =>
            {
                INamedTypeSymbol? remoteRef = start.Compilation.GetTypeByMetadataName("Neutral.RemoteRef`1");
                INamedTypeSymbol? remoteArg = start.Compilation.GetTypeByMetadataName("Neutral.RemoteArg`1");
                INamedTypeSymbol? arrayArg = start.Compilation.GetTypeByMetadataName("Neutral.RemoteArrayArg`1");
                if (remoteRef is null || remoteArg is null || arrayArg is null)
                {
                    return;
                }

                start.RegisterSyntaxNodeAction(c => Analyze(c, remoteRef, remoteArg, arrayArg), SyntaxKind.InvocationExpression);
            });
        }

        private static void Analyze(SyntaxNodeAnalysisContext context, INamedTypeSymbol remoteRef, INamedTypeSymbol remoteArg, INamedTypeSymbol arrayArg)
        {
            var invocation = (InvocationExpressionSyntax)context.Node;
            SymbolInfo info = context.SemanticModel.GetSymbolInfo(invocation, context.CancellationToken);
            if (info.Symbol is not null || info.CandidateReason != CandidateReason.OverloadResolutionFailure)
            {
                return;
            }

            // The stub overload that takes results: some parameter is a RemoteArg<T> or a RemoteArrayArg<T>.
            IMethodSymbol? stub = info.CandidateSymbols.OfType<IMethodSymbol>().FirstOrDefault(m => m.Parameters.Any(p => IsOf(p.Type, remoteArg) || IsOf(p.Type, arrayArg)));
            if (stub is null)
            {
                return;
            }

            SeparatedSyntaxList<ArgumentSyntax> arguments = invocation.ArgumentList.Arguments;
            for (int i = 0; i < arguments.Count; i++)
            {
                ArgumentSyntax argument = arguments[i];
                IParameterSymbol? parameter = argument.NameColon is { } name
                    ? stub.Parameters.FirstOrDefault(p => p.Name == name.Name.Identifier.ValueText)
                    : i < stub.Parameters.Length ? stub.Parameters[i] : null;
                if (parameter?.Type is not INamedTypeSymbol { TypeArguments.Length: 1 } parameterType)
                {
                    continue;
                }

                ITypeSymbol? given = context.SemanticModel.GetTypeInfo(argument.Expression, context.CancellationToken).Type;
                if (given is null)
                {
                    continue;
                }

                bool fanIn = false;
                ITypeSymbol? produced = ResultOf(given, remoteRef);
                if (produced is null && given is IArrayTypeSymbol array)
                {
                    produced = ResultOf(array.ElementType, remoteRef);
                    fanIn = produced is not null;
                }

                if (produced is null)
                {
                    continue;
                }

                ITypeSymbol element = parameterType.TypeArguments[0];
                ITypeSymbol expected;
                if (IsOf(parameterType, remoteArg))
                {
                    expected = element;
                }
                else if (IsOf(parameterType, arrayArg))
                {
                    expected = fanIn ? element : context.Compilation.CreateArrayTypeSymbol(element);
                }
                else
                {
                    continue;
                }

                if (!SymbolEqualityComparer.Default.Equals(produced, expected))
                {
                    string shown = fanIn ? expected.ToDisplayString() + " (each element)" : expected.ToDisplayString();
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.MismatchedRemoteArgument, argument.GetLocation(),
                        parameter.Name, stub.ContainingType.ToDisplayString() + "." + stub.Name, shown, produced.ToDisplayString()));
                }
            }
        }

        private static bool IsOf(ITypeSymbol type, INamedTypeSymbol definition) =>
            type is INamedTypeSymbol named && SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, definition);

        /// <summary>X when <paramref name="type"/> is or derives from <c>RemoteRef&lt;X&gt;</c>.</summary>
        private static ITypeSymbol? ResultOf(ITypeSymbol type, INamedTypeSymbol remoteRef)
        {
            for (INamedTypeSymbol? t = type as INamedTypeSymbol; t is not null; t = t.BaseType)
            {
                if (SymbolEqualityComparer.Default.Equals(t.OriginalDefinition, remoteRef))
                {
                    return t.TypeArguments[0];
                }
            }

            return null;
        }
    }
}
