using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;

namespace Neutral.Tests;

public sealed class ContextTests
{
    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task A_function_writes_through_RemoteContext_Storage_and_the_client_reads_it(string isolation)
    {
        await using var local = new LocalCloud(isolation);
        var job = local.Cloud.Submit(Enumerable.Range(0, 4).Select(i => Remote.ContextFunctions.WriteToStorage($"out/part-{i}", "text " + i)));
        string[] echoes = await job.GetResultsAsync();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal($"{job.JobId}/{i}/1:text {i}", echoes[i]);
            Assert.Equal("text " + i, Encoding.UTF8.GetString((await local.Cloud.Storage.GetAsync($"out/part-{i}"))!));
        }
    }

    [Fact]
    public async Task A_map_over_stored_text_split_into_chunks_sees_every_line_once()
    {
        await using var local = new LocalCloud("process", workers: 2);
        // Two objects of numbered lines, of varied lengths, cut at 1 KiB wherever that falls; another prefix left out.
        var expected = new List<string>();
        for (int o = 0; o < 2; o++)
        {
            var text = new StringBuilder();
            for (int i = 0; i < 500; i++)
            {
                string line = $"line {o}-{i} " + string.Join(' ', Enumerable.Repeat("w", i % 13));
                text.Append(line).Append('\n');
                expected.Add(line);
            }

            await local.Cloud.Storage.PutAsync($"input/part-{o}.txt", Encoding.UTF8.GetBytes(text.ToString()));
        }

        await local.Cloud.Storage.PutAsync("other/ignored.txt", Encoding.UTF8.GetBytes("not input\n"));
        // As the guide writes it (System.Linq.AsyncEnumerable, in the BCL since .NET 10).
        List<ObjectChunk> chunks = await StorageInput.Split(local.Cloud.Storage, "input/", 1024).ToListAsync();

        Assert.True(chunks.Count > 20, $"{chunks.Count} chunks: the test would not cut lines");
        var results = await local.Cloud.MapAsync(chunks, c => Remote.ContextFunctions.CountWords(c));
        Assert.Equal(expected.Sum(l => (long)l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length), results.Sum(r => r.Words));
        // Each chunk's first owned line is a whole line of the input, and no line is owned twice.
        string[] firsts = results.Where(r => r.FirstLine is not null).Select(r => r.FirstLine!).ToArray();
        Assert.All(firsts, f => Assert.Contains(f, expected));
        Assert.Equal(firsts.Length, firsts.Distinct().Count());
    }

    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task A_shared_value_is_fetched_once_per_worker_process(string isolation)
    {
        await using var local = new LocalCloud(isolation, workers: 2);
        long[] data = Enumerable.Range(0, 100_000).Select(i => (long)i + Random.Shared.Next()).ToArray();
        Shared<long[]> shared = await local.Cloud.ShareAsync(data);
        var results = await local.Cloud.MapAsync(Enumerable.Range(0, 40), i => Remote.ContextFunctions.UseShared(shared, i));
        Assert.All(results, r => Assert.Equal(data.Sum(), r.Sum));
        Assert.All(results, r => Assert.Equal(1, r.Fetches));
        Assert.InRange(results.Select(r => r.ProcessId).Distinct().Count(), 1, 2);
    }

    [Fact]
    public async Task Sharing_a_type_without_a_generated_codec_is_a_clear_error()
    {
        await using var local = new LocalCloud();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => local.Cloud.ShareAsync(new Uri("http://example.org")));
        Assert.Contains("Shared<T> parameter", error.Message);
    }

    [Fact]
    public async Task Console_output_and_the_call_log_are_captured_into_the_status()
    {
        await using var local = new LocalCloud();
        var job = local.Cloud.Submit([Remote.ContextFunctions.Chatty(7)]);
        await job.GetResultsAsync();
        Assert.Contains("console says 7", job[0].Stats.Log);
        Assert.Contains("log says 7", job[0].Stats.Log);
    }

    [Fact]
    public async Task The_user_key_space_refuses_the_internal_prefix()
    {
        await using var local = new LocalCloud();
        await Assert.ThrowsAsync<ArgumentException>(() => local.Cloud.Storage.PutAsync(Cloud.InternalPrefix + "jobs/x", new byte[] { 1 }));
    }
}
