using System.Text.Json;
using Neutral.Workers;

namespace Neutral.Workers.Tests;

/// <summary>The outcome a cloud worker answers its platform with.</summary>
public sealed class CallOutcomeTests
{
    [Fact]
    public void The_json_names_the_attempt_and_its_result_and_the_error_kind_only_for_failures()
    {
        using (JsonDocument failed = JsonDocument.Parse(new CallOutcome("job-1", 7, 2, false, true, "user").ToJson()))
        {
            JsonElement root = failed.RootElement;
            Assert.Equal("job-1", root.GetProperty("job").GetString());
            Assert.Equal(7, root.GetProperty("call").GetInt32());
            Assert.Equal(2, root.GetProperty("attempt").GetInt32());
            Assert.False(root.GetProperty("succeeded").GetBoolean());
            Assert.True(root.GetProperty("statusCreated").GetBoolean());
            Assert.Equal("user", root.GetProperty("errorKind").GetString());
        }

        using JsonDocument succeeded = JsonDocument.Parse(new CallOutcome("job-1", 0, 1, true, false, null, [1, 2]).ToJson());
        Assert.True(succeeded.RootElement.GetProperty("succeeded").GetBoolean());
        Assert.False(succeeded.RootElement.TryGetProperty("errorKind", out _));
        Assert.False(succeeded.RootElement.TryGetProperty("status", out _));
    }
}
