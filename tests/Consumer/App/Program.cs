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
return 0;

namespace Consumer.App
{
    public static class Greeter
    {
        [Remote]
        public static string Greet(string name) => $"hello {name} from {Environment.ProcessId}";
    }
}
