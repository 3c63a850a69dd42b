using System;
using System.Collections.Generic;
using Neutral.Dispatch;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// Each call's options (the method's attribute over the job's configuration) and its attempts' envelopes, built when an
/// attempt's turn comes: the arguments inline when small enough, else their byte range of <c>input.bin</c>.
/// </summary>
internal sealed class EnvelopeFactory
{
    private readonly string _jobId;
    private readonly IResultSink _sink;
    private readonly CloudContext _cloud;

    public EnvelopeFactory(string jobId, IResultSink sink, CloudContext cloud, InputGate? inputs = null)
    {
        Inputs = inputs;
        _jobId = jobId;
        _sink = sink;
        _cloud = cloud;
    }

    /// <summary>The job span's W3C context, when the job is traced: each envelope carries it (or its invocation's).</summary>
    public string? TraceParent { get; set; }

    /// <summary>The packed arguments, once staged.</summary>
    public JobStaging? Staging { get; set; }

    /// <summary>The calls that take other calls' results, if any.</summary>
    public InputGate? Inputs { get; init; }

    public string FunctionIdOf(int index) => _sink.FunctionOf(index).Id;

    public int RetriesOf(int index) => _sink.FunctionOf(index).Options.Retries ?? _cloud.Options.Job.Retries;

    public TimeSpan TimeoutOf(int index) => TimeSpan.FromSeconds(_sink.FunctionOf(index).Options.TimeoutSeconds ?? _cloud.Options.Job.TimeoutSeconds);

    public bool RetriesUserErrors(int index) => _sink.FunctionOf(index).Options.RetryOnException;

    /// <summary>Attempt <paramref name="attempt"/> of call <paramref name="index"/>, in launch slot <paramref name="slot"/>; null before staging.</summary>
    public InvocationEnvelope? Build(int index, int attempt, int? slot)
    {
        if (Staging is not { } staging)
        {
            return null;
        }

        RemoteFunction function = _sink.FunctionOf(index);
        bool inline = !staging.Large || staging.Length(index) <= InvocationEnvelope.InlineLimit;
        TimeSpan timeout = TimeoutOf(index);
        IReadOnlyList<InputSource>? from = Inputs?.SourcesOf(index);
        return new InvocationEnvelope
        {
            Version = from is null ? InvocationEnvelope.PlainVersion : InvocationEnvelope.InputsVersion,
            From = from,
            JobId = _jobId,
            CallIndex = index,
            FunctionId = function.Id,
            SignatureHash = InvocationEnvelope.FormatHash(function.SignatureHash),
            Assembly = RemoteDispatch.AssemblyOf(function.Id),
            InlineInput = inline ? staging.Arguments(index).ToArray() : null,
            InputRange = inline ? null : new InputRange(StorageLayout.Input(_jobId), staging.Offsets[index], staging.Length(index)),
            Attempt = attempt,
            Slot = slot,
            // Launched from the cloud, it may wait for its launcher call to start and then to send it (twice the bound).
            // Several calls per invocation run one after another: the launcher adds a timeout for each call after the first.
            Deadline = _cloud.Time.GetUtcNow() + TimeSpan.FromSeconds(_cloud.Options.Job.StartTimeoutSeconds * (_cloud.Options.Job.InvokeFrom == "cloud" ? 2 : 1))
                + timeout,
            TimeoutSeconds = (int)Math.Ceiling(timeout.TotalSeconds),
            RetryUserErrors = function.Options.RetryOnException,
            Store = _cloud.Location,
            Stores = _cloud.Locations,
            TraceParent = TraceParent,
        };
    }
}
