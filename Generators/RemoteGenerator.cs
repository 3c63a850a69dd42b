using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Neutral.Generators.Diagnostics;
using Neutral.Generators.Helpers;
using Neutral.Generators.Model;

namespace Neutral.Generators
{
    /// <summary>
    /// Turns each <c>[Remote]</c> method into a typed client stub (<c>Remote.Type.Method(...)</c>), an entry of the
    /// assembly's dispatch table, and the binary codecs of its argument and result types.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed partial class RemoteGenerator : IIncrementalGenerator
    {
        internal const string RemoteAttributeName = "Neutral.RemoteAttribute";

        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            // Off the compilation's declarations, not the compilation: an edit inside a method body leaves them equal
            // (DeclarationComparer), so nothing after this runs again and no symbol is bound. ForAttributeWithMetadataName
            // would run its transform for every [Remote] method on every keystroke (a new compilation has new symbols).
            // When declarations did change, only the trees that changed are parsed again, unless what other trees depend
            // on (types, constants, global usings, references, options: DeclarationComparer.ShapesOf) changed too.
            IncrementalValuesProvider<MethodResult> methods = context.CompilationProvider
                .WithComparer(DeclarationComparer.Instance)
                .WithTrackingName(TrackingNames.Declarations)
                .SelectMany(static (compilation, _) =>
                {
                    DeclarationComparer.Digest shapes = DeclarationComparer.ShapesOf(compilation);
                    return compilation.SyntaxTrees.Select(tree => new Finder.Input(compilation, tree, shapes));
                })
                .Select(static (input, ct) => Finder.Find(input.Compilation, input.Tree, ct))
                .WithTrackingName(TrackingNames.Trees)
                .SelectMany(static (found, _) => found)
                .WithTrackingName(TrackingNames.Methods);

            IncrementalValuesProvider<RemoteMethodModel> models = methods
                .Where(static r => r.Model is not null)
                .Select(static (r, _) => r.Model!)
                .WithTrackingName(TrackingNames.Models);

            IncrementalValuesProvider<DiagnosticInfo> diagnostics = methods
                .SelectMany(static (r, _) => r.Diagnostics)
                .WithTrackingName(TrackingNames.Diagnostics);

            IncrementalValueProvider<ImmutableArray<FunctionIdInfo>> ids = methods
                .Where(static r => r.Id is not null)
                .Select(static (r, _) => r.Id!)
                .Collect()
                .WithTrackingName(TrackingNames.AllIds);

            IncrementalValueProvider<ImmutableArray<RemoteMethodModel>> all = models
                .Collect()
                .WithTrackingName(TrackingNames.AllModels);

            // The planner decides what gets written (which methods, which files, every declared name); the emitter
            // writes it. Compared by value: a re-plan that comes out the same stops here.
            IncrementalValueProvider<Plan> plan = all
                .Select(static (list, ct) => Planner.PlanOf(list, ct))
                .WithTrackingName(TrackingNames.Plan);

            // Executables register the tables of the assemblies they reference: a library's own module initializer runs
            // only when the library is touched, and NativeAOT keeps only what is reachable. An executable that references
            // Neutral.Workers also serves as its own local worker when started as one (NativeAOT), after registering
            // its own table: the order of module initializers within an assembly is not specified.
            IncrementalValueProvider<string?> ownTable = plan
                .Select(static (p, _) => p.OwnTable)
                .WithTrackingName(TrackingNames.OwnTable);
            // Off the references, not the compilation (a new one on every edit): each reference is read once, from its
            // metadata tables, and only in an executable. The output kind is all that is taken from the compilation: a
            // bool that stays equal, so the steps after it stay cached.
            IncrementalValueProvider<bool> isExecutable = context.CompilationProvider
                .Select(static (compilation, _) => compilation.Options.OutputKind is OutputKind.ConsoleApplication or OutputKind.WindowsApplication)
                .WithTrackingName(TrackingNames.IsExecutable);
            IncrementalValueProvider<ExecutableModel?> executable = context.MetadataReferencesProvider
                .Combine(isExecutable)
                .Select(static (pair, ct) => pair.Right ? ReferenceScanner.Scan(pair.Left, ct) : ReferenceModel.None)
                .WithTrackingName(TrackingNames.Referenced)
                .Collect()
                .Combine(isExecutable)
                .Select(static (pair, _) => ReferenceScanner.Merge(pair.Left, pair.Right))
                .WithTrackingName(TrackingNames.References);
            IncrementalValueProvider<ReferencesFile?> registrations = executable
                .Combine(ownTable)
                .Select(static (pair, _) => Planner.References(pair.Left, pair.Right))
                .WithTrackingName(TrackingNames.Registrations);
            context.RegisterSourceOutput(registrations, static (spc, file) =>
            {
                if (file is not null)
                {
                    spc.AddSource(file.HintName, Emitter.EmitReferences(file));
                }
            });

            // NEU1008 is the planner's too (it drops the duplicates it reports), in the diagnostics pipeline: the ids keep
            // their real locations.
            IncrementalValueProvider<EquatableArray<DiagnosticInfo>> duplicates = ids
                .Select(static (list, ct) => Planner.DuplicateIds(list, ct))
                .WithTrackingName(TrackingNames.DuplicateIds);

            // Reported against the current compilation: a body edit earlier in a file moves the declarations after it, and a
            // diagnostic found before the edit is mapped to the current tree (a location in a tree the compilation no longer
            // has could neither be reported nor suppressed by #pragma). The mapped list is equatable (a location compares by
            // tree and span), so an edit in another file reports nothing anew.
            IncrementalValueProvider<EquatableArray<DiagnosticInfo>> reported = diagnostics.Collect()
                .Combine(duplicates)
                .Combine(context.CompilationProvider)
                .Select(static (input, _) =>
                {
                    var ((found, duplicated), compilation) = input;
                    var byPath = new System.Collections.Generic.Dictionary<string, SyntaxTree>();
                    return found.Concat(duplicated)
                        .Select(info => info with { Location = DeclarationComparer.Reanchor(info.Location, compilation, byPath) })
                        .ToImmutableArray()
                        .ToEquatableArray();
                })
                .WithTrackingName(TrackingNames.Reported);
            context.RegisterSourceOutput(reported, static (spc, list) =>
            {
                foreach (DiagnosticInfo info in list)
                {
                    spc.ReportDiagnostic(ToDiagnostic(info));
                }
            });

            // Output per containing type and per codec, each method's share of the plan: an edit inside a method body
            // re-emits nothing; one to a method's signature re-emits its type's file and the dispatch table. Each type's
            // file hangs off its methods' own entries (the first method of a type carries it, the others null), not off
            // a list of types: a list is compared position by position, so a new type sorting first would make every
            // later type look changed. Codecs the same way: each is carried by the first method (by id) that needs it.
            IncrementalValuesProvider<TypeFile?> types = models
                .Combine(plan)
                .Select(static (pair, _) => pair.Right.TypeOf(pair.Left))
                .WithTrackingName(TrackingNames.Types);
            IncrementalValuesProvider<EquatableArray<CodecFile>> codecs = models
                .Combine(plan)
                .Select(static (pair, _) => pair.Right.CodecsOf(pair.Left))
                .WithTrackingName(TrackingNames.Codecs);
            IncrementalValueProvider<DispatchFile?> dispatch = plan
                .Select(static (p, _) => p.Dispatch)
                .WithTrackingName(TrackingNames.Dispatch);

            context.RegisterSourceOutput(types, static (spc, type) =>
            {
                if (type is not null)
                {
                    spc.AddSource(type.HintName, Emitter.EmitType(type));
                }
            });
            context.RegisterSourceOutput(codecs, static (spc, list) =>
            {
                foreach (CodecFile codec in list)
                {
                    spc.AddSource(codec.HintName, Emitter.EmitCodec(codec));
                }
            });
            context.RegisterSourceOutput(dispatch, static (spc, file) =>
            {
                if (file is not null)
                {
                    spc.AddSource(file.HintName, Emitter.EmitDispatch(file));
                }
            });
        }

        private static Diagnostic ToDiagnostic(DiagnosticInfo info) =>
            Diagnostic.Create(DiagnosticDescriptors.ById[info.Id], info.Location, info.Arguments.ToArray<object>());
    }
}
