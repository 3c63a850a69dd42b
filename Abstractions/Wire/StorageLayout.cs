using System;
using System.Globalization;

namespace Neutral.Wire;

/// <summary>
/// Every storage key Neutral writes, in one place. The call protocol's keys are relative to the store's Neutral prefix
/// (<see cref="InternalPrefix"/>):
/// <code>
/// jobs/{jobId}/job.json
/// jobs/{jobId}/input.bin
/// jobs/{jobId}/shared/{hash}
/// jobs/{jobId}/calls/{i:D6}/started.{a}
/// jobs/{jobId}/calls/{i:D6}/output.{a}
/// jobs/{jobId}/calls/{i:D6}/failed.{a}
/// jobs/{jobId}/calls/{i:D6}/status
/// jobs/{jobId}/slots/{s:D6}/{i:D7}.{a}.started
/// jobs/{jobId}/slots/{s:D6}/{i:D7}.{a}.status
/// jobs/{jobId}/slots/{s:D6}/{i:D7}.{a}.failed
/// clients/{clientId}
/// shared/{clientId}/{hash}
/// </code>
/// The providers' deployment records are keys from the store's root, under <see cref="DeploymentsFolder"/>; deployed
/// workers and clients of earlier builds look for them, so their text never changes.
/// </summary>
public static class StorageLayout
{
    /// <summary>
    /// The folder, from the store's root, that holds Neutral's own objects (jobs, shared values, deployment records), out
    /// of the user's key space.
    /// </summary>
    public const string InternalPrefix = "_neutral/";

    /// <summary>The folder holding every job, from the store's root (<see cref="InternalPrefix"/> + <see cref="JobsFolder"/>).</summary>
    public const string InternalJobsFolder = InternalPrefix + JobsFolder;

    /// <summary>The folder, from the store's root, of the providers' deployment records.</summary>
    public const string DeploymentsFolder = InternalPrefix + "deployments/";

    /// <summary>The folder holding every job.</summary>
    public const string JobsFolder = "jobs/";

    /// <summary>The folder of one job.</summary>
    public static string Job(string jobId) => JobsFolder + CheckId(jobId) + "/";

    /// <summary>The folder of failed calls kept for replay (<c>Job:KeepFailedHours</c>), outside the jobs' folders.</summary>
    public const string KeptFolder = "kept/";

    /// <summary>The failed calls kept of a job.</summary>
    public static string Kept(string jobId) => KeptFolder + CheckId(jobId) + "/";

    /// <summary>A failed call kept for replay (a <see cref="KeptCall"/>).</summary>
    public static string Kept(string jobId, int callIndex) => Kept(jobId) + callIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".json";

    /// <summary>The job manifest.</summary>
    public static string Manifest(string jobId) => Job(jobId) + "job.json";

    /// <summary>All calls' encoded arguments in one object.</summary>
    public static string Input(string jobId) => Job(jobId) + "input.bin";

    /// <summary>The folder of the job's lease records, one a generation (<see cref="LeaseRecord"/>).</summary>
    public static string Leases(string jobId) => Job(jobId) + "lease/";

    /// <summary>
    /// Generation <paramref name="generation"/> of the job's lease: created (create-only) by the client that takes the job
    /// over, then renewed (overwritten) by that client alone. The newest generation names the client that drives the job.
    /// </summary>
    public static string Lease(string jobId, int generation) => Leases(jobId) + generation.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>
    /// Written by the client that drives a job once every call has an outcome, before it waits for attached clients to
    /// go: <c>done</c>, or <c>cancelled</c>. An attached client reads the statuses of its pending calls then, and ends.
    /// </summary>
    public static string Ended(string jobId) => Job(jobId) + "ended";

    /// <summary>The folder of the records of clients attached to the job without driving it.</summary>
    public static string Attached(string jobId) => Job(jobId) + "attached/";

    /// <summary>The record of client <paramref name="clientId"/> attached to the job (a <see cref="LeaseRecord"/>, renewed).</summary>
    public static string Attached(string jobId, string clientId) => Attached(jobId) + clientId;

    /// <summary>A shared value.</summary>
    public static string Shared(string jobId, string hash) => Job(jobId) + "shared/" + hash;

    /// <summary>The folder listing every call's objects.</summary>
    public static string Calls(string jobId) => Job(jobId) + "calls/";

    /// <summary>The folder of one call.</summary>
    public static string Call(string jobId, int callIndex) =>
        Calls(jobId) + callIndex.ToString("D6", CultureInfo.InvariantCulture) + "/";

    /// <summary>Written when an attempt starts.</summary>
    public static string Started(string jobId, int callIndex, int attempt) =>
        Call(jobId, callIndex) + "started." + attempt.ToString(CultureInfo.InvariantCulture);

    /// <summary>A large encoded result of an attempt.</summary>
    public static string Output(string jobId, int callIndex, int attempt) =>
        Call(jobId, callIndex) + "output." + attempt.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The outcome of an attempt that failed in a way another attempt may fix (a platform fault, or a user exception
    /// of a method with <c>RetryOnException</c>): a <see cref="StatusRecord"/> written with an ordinary put. It never
    /// takes the <see cref="Status"/> name, so a retried or backup attempt that succeeds can still create the status.
    /// </summary>
    public static string Failed(string jobId, int callIndex, int attempt) =>
        Call(jobId, callIndex) + "failed." + attempt.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The call's final outcome, created once (create-only) by the first attempt that succeeds or fails for good (a
    /// user exception not retried, a call the worker cannot run): the winner marker and the one signal of completion.
    /// </summary>
    public static string Status(string jobId, int callIndex) => Call(jobId, callIndex) + "status";

    /// <summary>
    /// The folder of a job's markers, by launch slot (protocol version 3): the client gives every attempt it launches a
    /// slot (<see cref="InvocationEnvelope.Slot"/>, a few hundred attempts each, in launch order), and the worker writes
    /// its attempt's markers into that slot's folder. The client then lists only the slots that still hold calls without
    /// an outcome, so finding what finished costs in proportion to the calls in flight, not to the job.
    /// </summary>
    public static string Slots(string jobId) => Job(jobId) + "slots/";

    /// <summary>
    /// A launcher call's list of attempts to invoke (<c>Job:InvokeFrom=cloud</c>): their envelopes as JSON, one per
    /// line, written by the client before it invokes the launcher call <paramref name="launcher"/>.
    /// </summary>
    public static string Launch(string jobId, int launcher) => Job(jobId) + "launch/" + launcher.ToString("D6", CultureInfo.InvariantCulture) + ".jsonl";

    /// <summary>The folder of one launch slot's markers.</summary>
    public static string Slot(string jobId, int slot) => Slots(jobId) + slot.ToString("D6", CultureInfo.InvariantCulture) + "/";

    /// <summary>
    /// An attempt's marker in its launch slot: <paramref name="kind"/> is <see cref="StartedMarker"/> (written when the
    /// attempt starts, in place of <see cref="Started"/>; it holds the host and the time),
    /// <see cref="StatusMarker"/> (empty, after this attempt created the call's <see cref="Status"/>) or
    /// <see cref="FailedMarker"/> (empty, after this attempt wrote <see cref="Failed"/>). A marker only says where to
    /// look: the status object stays the one truth.
    /// </summary>
    public static string SlotMarker(string jobId, int slot, int callIndex, int attempt, string kind) =>
        Slot(jobId, slot) + callIndex.ToString("D7", CultureInfo.InvariantCulture) + "." + attempt.ToString(CultureInfo.InvariantCulture) + "." + kind;

    /// <summary>
    /// A status marker that carries its status (protocol version 4, <see cref="MarkerStatus"/>):
    /// <c>{i}.{a}.status.{payload}</c>, or the bare marker when <paramref name="payload"/> is <see langword="null"/>.
    /// </summary>
    public static string StatusMarkerOf(string jobId, int slot, int callIndex, int attempt, string? payload) =>
        SlotMarker(jobId, slot, callIndex, attempt, StatusMarker) + (payload is null ? "" : "." + payload);

    /// <summary>The kind of marker an attempt writes when it starts.</summary>
    public const string StartedMarker = "started";

    /// <summary>The kind of marker an attempt writes after it created the call's status.</summary>
    public const string StatusMarker = "status";

    /// <summary>The kind of marker an attempt writes after it wrote its <c>failed.{a}</c> record.</summary>
    public const string FailedMarker = "failed";

    /// <summary>
    /// Parses the name of a marker in a slot's folder (<c>{i}.{a}.{kind}</c>, what follows <see cref="Slot"/>) into the
    /// call, the attempt and the kind's first letter (<c>s</c>tarted, s<c>t</c>atus, <c>f</c>ailed), without allocating.
    /// </summary>
    public static bool TryParseSlotMarker(ReadOnlySpan<char> name, out int callIndex, out int attempt, out char kind) =>
        TryParseSlotMarker(name, out callIndex, out attempt, out kind, out _);

    /// <summary>
    /// Parses a marker's name as <see cref="TryParseSlotMarker(ReadOnlySpan{char}, out int, out int, out char)"/> does,
    /// and gives the <paramref name="payload"/> a status marker carries (<see cref="MarkerStatus"/>; empty for none).
    /// </summary>
    public static bool TryParseSlotMarker(ReadOnlySpan<char> name, out int callIndex, out int attempt, out char kind, out ReadOnlySpan<char> payload)
    {
        payload = default;
        callIndex = -1;
        attempt = 0;
        kind = '\0';
        int first = name.IndexOf('.');
        if (first <= 0 || !int.TryParse(name[..first], NumberStyles.None, CultureInfo.InvariantCulture, out callIndex))
        {
            return false;
        }

        ReadOnlySpan<char> rest = name[(first + 1)..];
        int second = rest.IndexOf('.');
        if (second <= 0 || !int.TryParse(rest[..second], NumberStyles.None, CultureInfo.InvariantCulture, out attempt))
        {
            return false;
        }

        ReadOnlySpan<char> what = rest[(second + 1)..];
        if (what.StartsWith(StatusMarker + ".", StringComparison.Ordinal))
        {
            payload = what[(StatusMarker.Length + 1)..];
            what = what[..StatusMarker.Length];
        }

        kind = what.SequenceEqual(StartedMarker) ? 's' : what.SequenceEqual(StatusMarker) ? 't' : what.SequenceEqual(FailedMarker) ? 'f' : '\0';
        return kind != '\0';
    }

    /// <summary>The record of a client that owns shared values (its owner, for sweeps by other clients).</summary>
    public static string Client(string clientId) => ClientsFolder + clientId;

    /// <summary>The folder of the clients' records.</summary>
    public const string ClientsFolder = "clients/";

    /// <summary>The folder holding every client's shared values.</summary>
    public const string SharedFolder = "shared/";

    /// <summary>The folder holding every shuffle's intermediate data (<c>shuffles/{shuffleId}/{mapCall}/{attempt}-{nonce}</c>).</summary>
    public const string ShufflesFolder = "shuffles/";

    /// <summary>The folder of a client's shuffles: a shuffle's id starts with its client's id, so a sweep finds a dead client's.</summary>
    public static string ClientShuffles(string clientId) => ShufflesFolder + clientId + "/";

    /// <summary>The folder of the values a client shares (<c>Cloud.ShareAsync</c>): each client keeps its own copies.</summary>
    public static string ClientShared(string clientId) => SharedFolder + clientId + "/";

    /// <summary>A value a client shares, under its content hash.</summary>
    public static string ClientShared(string clientId, string hash) => ClientShared(clientId) + hash;

    /// <summary>
    /// AWS: the dispatch tables a Lambda deployment carries, by their digest (the function's <c>NEUTRAL_TABLES</c>
    /// variable names it), from the bucket's root.
    /// </summary>
    public static string LambdaTables(string tablesDigest) => DeploymentsFolder + "tables/" + tablesDigest + ".txt";

    /// <summary>AWS: a Lambda package too large to send in the request, from the bucket's root, by the zip's SHA-256 (hex).</summary>
    public static string LambdaCode(string function, string zipSha256) => DeploymentsFolder + "code/" + function + "-" + Short(zipSha256) + ".zip";

    /// <summary>Azure: the record of the dispatch tables Function App <paramref name="app"/> carries, from the container's root.</summary>
    public static string AzureRecord(string app) => DeploymentsFolder + "azure/" + app + ".tables";

    /// <summary>Azure: a Function App's package, from the container's root, by the tables' digest and the zip's SHA-256 (hex).</summary>
    public static string AzurePackage(string app, string tablesDigest, string zipSha256) =>
        DeploymentsFolder + "azure/" + app + "/" + Short(tablesDigest) + "-" + Short(zipSha256) + ".zip";

    /// <summary>
    /// Parses a key under <see cref="Calls"/>: the call index and the object's name (<c>status</c>, <c>started.2</c>, ...).
    /// Returns <see langword="false"/> for keys of another shape.
    /// </summary>
    public static bool TryParseCallKey(string jobId, string key, out int callIndex, out string name)
    {
        callIndex = -1;
        name = string.Empty;
        string calls = Calls(jobId);
        if (!key.StartsWith(calls, StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> rest = key.AsSpan(calls.Length);
        int slash = rest.IndexOf('/');
        if (slash <= 0 || !int.TryParse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out callIndex))
        {
            callIndex = -1;
            return false;
        }

        name = rest[(slash + 1)..].ToString();
        return name.Length > 0;
    }

    /// <summary>The first 16 hex digits of a digest: enough to tell packages apart, short enough for a key.</summary>
    private static string Short(string digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        return digest.Length < 16
            ? throw new ArgumentException($"Digest '{digest}' has {digest.Length} characters; a deployment key takes its first 16 hex digits.", nameof(digest))
            : digest[..16];
    }

    private static string CheckId(string jobId)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        foreach (char c in jobId)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                throw new ArgumentException($"Job id '{jobId}' may hold only ASCII letters, digits, '-' and '_'.", nameof(jobId));
            }
        }

        return jobId;
    }
}
