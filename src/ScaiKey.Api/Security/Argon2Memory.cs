using System.Runtime.InteropServices;

namespace ScaiKey.Api.Security;

/// <summary>
/// Argon2's block memory, kept between hashes: at most one idle buffer per core (hashes run at most one per core,
/// see <see cref="HashingGate"/>), so the service holds 19 MiB per core once it has signed users in. When the idle
/// list is full, the oldest buffer makes room, so a few imported hashes of another size cannot leave every later
/// sign-in allocating afresh. Buffers over 64 MiB (only imported hashes can ask for those) are never kept. Buffers
/// are wiped when returned, as libsodium wipes its own, and asked for transparent huge pages where Linux offers them
/// (a 19 MiB random walk otherwise misses the TLB on most reads).
/// </summary>
internal sealed unsafe partial class Argon2Memory(int maxIdle)
{
    private const nuint HugePage = 2 * 1024 * 1024;
    private const int MadviseHugePage = 14;
    private const nuint MaxKeptBytes = 64 * 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly List<Lease> _idle = [];
    private int _allocations;

    public static Argon2Memory Shared { get; } = new(Environment.ProcessorCount);

    /// <summary>How many buffers were allocated rather than reused (for tests).</summary>
    public int Allocations => Volatile.Read(ref _allocations);

    public Lease Rent(nuint bytes)
    {
        lock (_gate)
        {
            for (var i = _idle.Count - 1; i >= 0; i--)
            {
                if (_idle[i].Bytes == bytes)
                {
                    var lease = _idle[i];
                    _idle.RemoveAt(i);
                    return lease;
                }
            }
        }

        Interlocked.Increment(ref _allocations);
        var size = (bytes + HugePage - 1) & ~(HugePage - 1);
        var pointer = NativeMemory.AlignedAlloc(size, HugePage);
        if (OperatingSystem.IsLinux())
        {
            // Advice only: where THP is off, or the call fails, the buffer works the same with small pages.
            _ = Madvise(pointer, size, MadviseHugePage);
        }

        return new Lease(this, pointer, bytes);
    }

    private void Return(Lease lease)
    {
        NativeMemory.Clear(lease.Pointer, lease.Bytes);
        if (maxIdle <= 0 || lease.Bytes > MaxKeptBytes)
        {
            NativeMemory.AlignedFree(lease.Pointer);
            return;
        }

        Lease? evicted = null;
        lock (_gate)
        {
            if (_idle.Count >= maxIdle)
            {
                evicted = _idle[0];
                _idle.RemoveAt(0);
            }

            _idle.Add(lease);
        }

        if (evicted is { } old)
        {
            NativeMemory.AlignedFree(old.Pointer);
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);

    internal readonly struct Lease(Argon2Memory owner, void* pointer, nuint bytes) : IDisposable
    {
        public void* Pointer { get; } = pointer;

        public nuint Bytes { get; } = bytes;

        public void Dispose() => owner.Return(this);
    }
}
