namespace Neutral.Generators
{
    /// <summary>The tracked pipeline steps (asserted Cached/Unchanged by the incremental tests).</summary>
    internal static class TrackingNames
    {
        public const string Declarations = nameof(Declarations);
        public const string Trees = nameof(Trees);
        public const string Methods = nameof(Methods);
        public const string Models = nameof(Models);
        public const string Diagnostics = nameof(Diagnostics);
        public const string Ids = nameof(Ids);
        public const string AllModels = nameof(AllModels);
        public const string AllIds = nameof(AllIds);
        public const string Plan = nameof(Plan);
        public const string DuplicateIds = nameof(DuplicateIds);
        public const string IsExecutable = nameof(IsExecutable);
        public const string Referenced = nameof(Referenced);
        public const string References = nameof(References);
        public const string OwnTable = nameof(OwnTable);
        public const string Registrations = nameof(Registrations);
        public const string Types = nameof(Types);
        public const string Codecs = nameof(Codecs);
        public const string Dispatch = nameof(Dispatch);
        public const string Reported = nameof(Reported);
    }
}
