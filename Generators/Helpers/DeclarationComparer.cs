using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Neutral.Generators.Helpers
{
    /// <summary>
    /// Two compilations are equal here when everything the generator reads is the same: their options, references and
    /// parse options, and each syntax tree's declarations, i.e. its tokens and directives with the bodies of methods,
    /// constructors, operators, accessors and expression-bodied members left out, and top-level statements too. An edit
    /// inside a method body (the commonest keystroke in an IDE) then leaves the compilation "unchanged" for the steps
    /// after it, which stay cached: no symbol is bound again. Each tree's digest is computed once and kept beside the
    /// tree (trees that did not change are the same objects in the next compilation), so a comparison costs one walk of
    /// the edited file.
    /// </summary>
    /// <remarks>
    /// What a body cannot change: a signature (C# infers no member type from a body), an attribute, a type's shape, a
    /// constant (those are fields, whose initializers stay in the digest). Directives (<c>#nullable</c>, <c>#if</c>) stay
    /// in it. Positions do not: a body edit moves the declarations after it in the same file, so diagnostics are mapped to
    /// the current tree when reported (<see cref="Reanchor"/>).
    /// </remarks>
    internal sealed class DeclarationComparer : IEqualityComparer<Compilation>
    {
        public static readonly DeclarationComparer Instance = new();

        private static readonly ConditionalWeakTable<SyntaxTree, Digest> s_digests = new();
        private static readonly ConditionalWeakTable<SyntaxTree, Digest> s_shapes = new();

        public bool Equals(Compilation? x, Compilation? y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }

            if (x is null || y is null || x.Language != y.Language || x.AssemblyName != y.AssemblyName
                || (!ReferenceEquals(x.Options, y.Options) && OptionsKey(x.Options) != OptionsKey(y.Options)))
            {
                return false;
            }

            if (!x.References.SequenceEqual(y.References))
            {
                return false;
            }

            using IEnumerator<SyntaxTree> left = x.SyntaxTrees.GetEnumerator();
            using IEnumerator<SyntaxTree> right = y.SyntaxTrees.GetEnumerator();
            while (true)
            {
                bool moreLeft = left.MoveNext();
                bool moreRight = right.MoveNext();
                if (moreLeft != moreRight)
                {
                    return false;
                }

                if (!moreLeft)
                {
                    return true;
                }

                SyntaxTree a = left.Current;
                SyntaxTree b = right.Current;
                if (ReferenceEquals(a, b))
                {
                    continue;
                }

                if (a.FilePath != b.FilePath || !a.Options.Equals(b.Options) || !DigestOf(a).Equals(DigestOf(b)))
                {
                    return false;
                }
            }
        }

        public int GetHashCode(Compilation obj) => obj is null ? 0 : obj.SyntaxTrees.Count();

        /// <summary>
        /// The options that can change what a declaration means. Not <c>CompilationOptions.Equals</c>/<c>GetHashCode</c>:
        /// they reach the compiler's resolvers, and the command-line compiler's throw <see cref="NotImplementedException"/>.
        /// </summary>
        private static string OptionsKey(CompilationOptions options) => string.Join("|",
            options.OutputKind, options.Platform, options.CheckOverflow, options.ModuleName, options.MainTypeName, options.ScriptClassName,
            (options as CSharpCompilationOptions)?.NullableContextOptions, (options as CSharpCompilationOptions)?.AllowUnsafe,
            (options as CSharpCompilationOptions) is { } cs ? string.Join(",", cs.Usings) : "");

        /// <summary>The digest of a tree's declarations (see the class remarks).</summary>
        internal static Digest DigestOf(SyntaxTree tree) => s_digests.GetValue(tree, static t => Compute(t, methods: true));

        /// <summary>
        /// The digest of a tree's declarations without its methods (bodies and signatures): what the models of methods in
        /// other trees can depend on (types' shapes, constants, global usings, attributes of types and assemblies).
        /// </summary>
        internal static Digest ShapeOf(SyntaxTree tree) => s_shapes.GetValue(tree, static t => Compute(t, methods: false));

        /// <summary>
        /// What every tree's <c>[Remote]</c> methods may depend on beyond their own tree: the options, the references,
        /// and every tree's <see cref="ShapeOf"/>. Equal before and after an edit to a method's signature.
        /// </summary>
        internal static Digest ShapesOf(Compilation compilation)
        {
            ulong h1 = 14695981039346656037UL;
            ulong h2 = 1099511628211UL;
            int count = 0;
            Mix(compilation.AssemblyName ?? "", ref h1, ref h2);
            Mix(OptionsKey(compilation.Options), ref h1, ref h2);
            foreach (MetadataReference reference in compilation.References)
            {
                Mix(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(reference).ToString(System.Globalization.CultureInfo.InvariantCulture), ref h1, ref h2);
                Mix(reference.Display ?? "", ref h1, ref h2);
                count++;
            }

            foreach (SyntaxTree tree in compilation.SyntaxTrees)
            {
                Mix(tree.FilePath, ref h1, ref h2);
                ShapeOf(tree).MixInto(ref h1, ref h2);
                count++;
            }

            return new Digest(h1, h2, count);
        }

        private static Digest Compute(SyntaxTree tree, bool methods)
        {
            SyntaxNode root = tree.GetRoot();
            ulong h1 = 14695981039346656037UL;
            ulong h2 = 1099511628211UL;
            int count = 0;
            foreach (SyntaxToken token in root.DescendantTokens(methods ? static node => !IsBody(node) : static node => !IsBody(node) && node is not MethodDeclarationSyntax))
            {
                if (token.HasLeadingTrivia)
                {
                    foreach (SyntaxTrivia trivia in token.LeadingTrivia)
                    {
                        if (trivia.IsDirective)
                        {
                            Mix(trivia.ToString(), ref h1, ref h2);
                        }
                    }
                }

                Mix(token.Text, ref h1, ref h2);
                count++;
            }

            return new Digest(h1, h2, count);
        }

        private static bool IsBody(SyntaxNode node) => node switch
        {
            BlockSyntax { Parent: BaseMethodDeclarationSyntax or AccessorDeclarationSyntax } => true,
            ArrowExpressionClauseSyntax { Parent: BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or PropertyDeclarationSyntax or IndexerDeclarationSyntax } => true,
            GlobalStatementSyntax => true,
            _ => false,
        };

        private static void Mix(string text, ref ulong h1, ref ulong h2)
        {
            foreach (char c in text)
            {
                h1 = (h1 ^ c) * 1099511628211UL;
                h2 = (h2 * 31) + c;
            }

            // A separator, so that "ab c" and "a bc" differ.
            h1 = (h1 ^ 0xFFFF) * 1099511628211UL;
            h2 = (h2 * 31) + 0xFFFF;
        }

        /// <summary>
        /// <paramref name="location"/> in <paramref name="compilation"/>'s tree of the same file: as it is when its tree is
        /// still there, else moved by the text changes from its tree to the current one (an edit in a body earlier in the
        /// file shifts it). <see cref="Location.None"/> when the file is gone or its path is not unique.
        /// </summary>
        public static Location? Reanchor(Location? location, Compilation compilation, Dictionary<string, SyntaxTree> byPath)
        {
            if (location is null || location.SourceTree is not { } old || compilation.ContainsSyntaxTree(old))
            {
                return location;
            }

            if (byPath.Count == 0)
            {
                foreach (SyntaxTree tree in compilation.SyntaxTrees)
                {
                    // Two trees with one path (in-memory sources without one): no way to tell which; null marks it.
                    byPath[tree.FilePath] = byPath.ContainsKey(tree.FilePath) ? null! : tree;
                }
            }

            if (!byPath.TryGetValue(old.FilePath, out SyntaxTree? current) || current is null)
            {
                return Location.None;
            }

            Microsoft.CodeAnalysis.Text.TextSpan span = location.SourceSpan;
            int shift = 0;
            foreach (Microsoft.CodeAnalysis.Text.TextChange change in current.GetChanges(old).OrderBy(c => c.Span.Start))
            {
                if (change.Span.End <= span.Start)
                {
                    shift += (change.NewText?.Length ?? 0) - change.Span.Length;
                }
            }

            int start = Math.Max(0, Math.Min(span.Start + shift, current.Length));
            return Location.Create(current, new Microsoft.CodeAnalysis.Text.TextSpan(start, Math.Min(span.Length, current.Length - start)));
        }

        /// <summary>A tree's declaration digest: two 64-bit hashes and the token count.</summary>
        internal sealed class Digest : IEquatable<Digest>
        {
            private readonly ulong _h1;
            private readonly ulong _h2;
            private readonly int _count;

            public Digest(ulong h1, ulong h2, int count)
            {
                _h1 = h1;
                _h2 = h2;
                _count = count;
            }

            public bool Equals(Digest? other) => other is not null && _h1 == other._h1 && _h2 == other._h2 && _count == other._count;

            public override bool Equals(object? obj) => Equals(obj as Digest);

            public override int GetHashCode() => unchecked((int)_h1 ^ (int)(_h1 >> 32));

            /// <summary>Folds this digest into a running one (no text made).</summary>
            public void MixInto(ref ulong h1, ref ulong h2)
            {
                h1 = (h1 ^ _h1) * 1099511628211UL;
                h2 = (h2 * 31) + _h2 + (ulong)_count;
            }

            public override string ToString() => _h1.ToString("x16", System.Globalization.CultureInfo.InvariantCulture) + _h2.ToString("x16", System.Globalization.CultureInfo.InvariantCulture) + "/" + _count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
