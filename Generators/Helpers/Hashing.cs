using System.Text;

namespace Neutral.Generators.Helpers
{
    /// <summary>FNV-1a hashes: tiny, stable across processes and platforms, enough to tell signatures apart.</summary>
    internal static class Hashing
    {
        public static ulong Fnv1a64(string text)
        {
            ulong hash = 14695981039346656037UL;
            foreach (byte b in Encoding.UTF8.GetBytes(text))
            {
                hash ^= b;
                hash *= 1099511628211UL;
            }

            return hash;
        }

        public static uint Fnv1a32(string text)
        {
            uint hash = 2166136261U;
            foreach (byte b in Encoding.UTF8.GetBytes(text))
            {
                hash ^= b;
                hash *= 16777619U;
            }

            return hash;
        }
    }
}
