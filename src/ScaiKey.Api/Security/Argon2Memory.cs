using System.Runtime.InteropServices;

namespace ScaiKey.Api.Security;

/// <summary>
/// Argon2's block memory, kept between hashes: at most one idle buffer per core (hashes run at most one per core,
/// see <see cref="HashingGate"/>), so the service holds 19 MiB per core once it has signed users in. Buffers over
/// 64 MiB (only imported hashes can ask for those) are never kept. Buffers are wiped when returned, as libsodium
/// wipes its own, and asked for transparent huge pages where Linux offers them (a 19 MiB random walk otherwise
/// misses the TLB on most reads).
/// </summary>
internal static unsafe partial class Argon2Memory
{
    private const nuint HugePage = 2 * 1024 * 1024;
    private const int MadviseHugePage = 14;
    private const nuint MaxKeptBytes = 64 * 1024 * 1024;

    private static readonly Lock Gate = new();
    private static readonly List<Lease> Idle = [];

    private static readonly int MaxIdle = Environment.ProcessorCount;

    public static Lease Rent(nuint bytes)
    {
        lock (Gate)
        {
            for (var i = Idle.Count - 1; i >= 0; i--)
            {
                if (Idle[i].Bytes == bytes)
                {
                    var lease = Idle[i];
                    Idle.RemoveAt(i);
                    return lease;
                }
            }
        }

        var size = (bytes + HugePage - 1) & ~(HugePage - 1);
        var pointer = NativeMemory.AlignedAlloc(size, HugePage);
        if (OperatingSystem.IsLinux())
        {
            // Advice only: where THP is off, or the call fails, the buffer works the same with small pages.
            _ = Madvise(pointer, size, MadviseHugePage);
        }

        return new Lease(pointer, bytes);
    }

    private static void Return(Lease lease)
    {
        NativeMemory.Clear(lease.Pointer, lease.Bytes);
        lock (Gate)
        {
            if (Idle.Count < MaxIdle && lease.Bytes <= MaxKeptBytes)
            {
                Idle.Add(lease);
                return;
            }
        }

        NativeMemory.AlignedFree(lease.Pointer);
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);

    internal readonly struct Lease(void* pointer, nuint bytes) : IDisposable
    {
        public void* Pointer { get; } = pointer;

        public nuint Bytes { get; } = bytes;

        public void Dispose() => Return(this);
    }
}
