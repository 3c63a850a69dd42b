using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Neutral.Generators.Helpers;
using Neutral.Generators.Model;

namespace Neutral.Generators
{
    public sealed partial class RemoteGenerator
    {
        /// <summary>
        /// Finds the <c>[Remote]</c> methods of a compilation and parses each: the methods of every type (nested ones too)
        /// that carry an attribute whose class is <c>Neutral.RemoteAttribute</c>, in tree order, as
        /// <c>ForAttributeWithMetadataName</c> would find them. It runs only when the compilation's declarations changed
        /// (<see cref="Helpers.DeclarationComparer"/>), not on an edit inside a body.
        /// </summary>
        internal static class Finder
        {
            /// <summary>
            /// One tree of a compilation, with what its methods' models may depend on outside it
            /// (<see cref="DeclarationComparer.ShapesOf"/>). Equal to the same tree under the same shapes, whatever the
            /// compilation: an edit to a method's signature in another tree leaves this tree's methods as they were, and
            /// each tree's methods stay a group of their own (a method added in one tree moves no other tree's entries).
            /// An edit to a type, a constant, a global using, a reference or an option changes the shapes: every tree is
            /// looked at again.
            /// </summary>
            internal sealed class Input : System.IEquatable<Input>
            {
                public Input(Compilation compilation, SyntaxTree tree, DeclarationComparer.Digest shapes)
                {
                    Compilation = compilation;
                    Tree = tree;
                    Shapes = shapes;
                }

                public Compilation Compilation { get; }

                public SyntaxTree Tree { get; }

                public DeclarationComparer.Digest Shapes { get; }

                public bool Equals(Input? other) => other is not null && ReferenceEquals(Tree, other.Tree) && Shapes.Equals(other.Shapes);

                public override bool Equals(object? obj) => Equals(obj as Input);

                public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Tree);
            }

            /// <summary>The <c>[Remote]</c> methods of <paramref name="tree"/>, parsed against <paramref name="compilation"/>.</summary>
            public static EquatableArray<MethodResult> Find(Compilation compilation, SyntaxTree tree, CancellationToken cancellationToken)
            {
                ImmutableArray<MethodResult>.Builder results = ImmutableArray.CreateBuilder<MethodResult>();
                cancellationToken.ThrowIfCancellationRequested();
                SemanticModel? model = null;
                foreach (SyntaxNode node in tree.GetRoot(cancellationToken).DescendantNodes(static n => n is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax or TypeDeclarationSyntax))
                {
                    if (node is not MethodDeclarationSyntax { AttributeLists.Count: > 0 } method)
                    {
                        continue;
                    }

                    model ??= compilation.GetSemanticModel(tree);
                    if (model.GetDeclaredSymbol(method, cancellationToken) is not IMethodSymbol symbol)
                    {
                        continue;
                    }

                    foreach (AttributeData attribute in symbol.GetAttributes())
                    {
                        if (attribute.AttributeClass is { Name: "RemoteAttribute", ContainingNamespace: { Name: "Neutral", ContainingNamespace.IsGlobalNamespace: true } })
                        {
                            results.Add(Parser.Parse(method, symbol, attribute, cancellationToken));
                            break;
                        }
                    }
                }

                return results.ToImmutable().ToEquatableArray();
            }
        }
    }
}
