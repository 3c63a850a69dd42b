using Consumer.App;
using Consumer.Lib;
using Neutral;

// A first job, as the README's "Use in your app" writes it: calls of a library's [Remote] method and of the app's own.
await using Cloud cloud = Cloud.Connect();

long[] areas = await cloud.MapAsync(Enumerable.Range(1, 12), i => Consumer.Lib.Remote.Shapes.Area(new Square(i)));
RemoteJob<string> job = cloud.Submit(Enumerable.Range(0, 6).Select(i => Consumer.App.Remote.Greeter.Greet("n" + i)));
string[] greetings = await job.GetResultsAsync();

var hosts = Enumerable.Range(0, job.Count).Select(i => job[i].Stats.WorkerHost).Distinct().ToArray();
Console.WriteLine($"areas {areas.Sum()}");
Console.WriteLine($"greetings {string.Join(",", greetings.Take(3))}");
Console.WriteLine($"workers {string.Join(" ", hosts)}");
Console.WriteLine($"client {Environment.ProcessId}");
// Which image of Neutral each side loaded: the package's precompiled one for this RID, its IL, or none (NativeAOT).
Console.WriteLine($"neutral client {NeutralImage.Describe()}");
Console.WriteLine($"neutral worker {await cloud.CallAsync(Consumer.App.Remote.NeutralImage.Describe())}");
return 0;

namespace Consumer.App
{
    public static class Greeter
    {
        [Remote]
        public static string Greet(string name) => $"hello {name} from {Environment.ProcessId}";
    }
}

namespace Consumer.App
{
    public static class NeutralImage
    {
        /// <summary><c>{r2r|il} {path relative to the app's folder}</c>, or <c>native</c> in a NativeAOT process.</summary>
        [Remote]
        [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "NativeAOT is answered before Location is read.")]
        public static string Describe()
        {
            if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
            {
                return "native";
            }

            string location = typeof(Cloud).Assembly.Location;

            using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(location));
            bool precompiled = pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0;
            return (precompiled ? "r2r " : "il ") + Path.GetRelativePath(AppContext.BaseDirectory, location);
        }
    }
}
