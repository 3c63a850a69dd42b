using System;
using Neutral.Storage;

namespace Neutral.Tests;

public sealed class ObjectKeyTests
{
    [Fact]
    public void Unpaired_surrogates_are_refused_for_every_store_without_echoing_them()
    {
        foreach (string key in new[] { "a\uD800", "\uDC00b", "x\uD83D/y", "lo\uDE00\uD83D" })
        {
            var error = Assert.Throws<ArgumentException>(() => ObjectKeys.Validate(key));
            Assert.Contains("unpaired UTF-16 surrogate", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(error.Message, c => char.IsSurrogate(c));
            Assert.Throws<ArgumentException>(() => ObjectKeys.Validate(key, allowPrefix: true));
        }

        ObjectKeys.Validate("faces/\uD83D\uDE00.png");
        ObjectKeys.Validate("faces/\uD83D\uDE00", allowPrefix: true);
    }

    [Fact]
    public void A_folder_named_like_a_temporary_file_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => ObjectKeys.Validate("data" + ObjectKeys.TemporarySuffix + "/part-1"));
        Assert.Contains("temporary files", error.Message, StringComparison.Ordinal);
        ObjectKeys.Validate("data" + ObjectKeys.TemporarySuffix + "-not/part-1");
    }
}
