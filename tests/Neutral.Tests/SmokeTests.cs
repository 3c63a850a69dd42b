using System;
using System.IO;
using System.Threading.Tasks;

namespace Neutral.Tests;

public sealed class SmokeTests
{
    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task One_call_runs_end_to_end(string isolation)
    {
        string root = Path.Combine(Path.GetTempPath(), "neutral-smoke-" + Guid.NewGuid().ToString("N"));
        await using (Cloud cloud = Cloud.Connect(o => { o.Local.Root = root; o.Local.Isolation = isolation; o.Local.Workers = 2; }))
        {
            Assert.Equal(5, await cloud.CallAsync(Remote.TestFunctions.Add(2, 3)));
        }

        Directory.Delete(root, recursive: true);
    }
}
