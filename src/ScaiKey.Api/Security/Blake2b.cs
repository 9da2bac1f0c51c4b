using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace ScaiKey.Api.Security;

/// <summary>
/// Unkeyed BLAKE2b (RFC 7693) with any digest length from 1 to 64 bytes, fed in parts. Argon2 needs it for H0 and
/// its variable-length hash H'; libsodium's generichash stops at 16 bytes at the short end, and Argon2 tags can be
/// shorter. Tests compare it with libsodium's for every length both accept.
/// </summary>
internal struct Blake2b
{
    public const int MaxDigestBytes = 64;
    private const int BlockBytes = 128;

    private static ReadOnlySpan<ulong> IV =>
    [
        0x6a09e667f3bcc908UL, 0xbb67ae8584caa73bUL, 0x3c6ef372fe94f82bUL, 0xa54ff53a5f1d36f1UL,
        0x510e527fade682d1UL, 0x9b05688c2b3e6c1fUL, 0x1f83d9abfb41bd6bUL, 0x5be0cd19137e2179UL,
    ];

    private static ReadOnlySpan<byte> Sigma =>
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
        11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
        7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
        9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
        2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
        12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
        13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
        6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
        10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
    ];

    private State8 _h;
    private Block128 _buffer;
    private int _buffered;
    private ulong _counter;
    private readonly int _digestBytes;

    public Blake2b(int digestBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(digestBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(digestBytes, MaxDigestBytes);
        _digestBytes = digestBytes;
        IV.CopyTo(_h);
        _h[0] ^= 0x01010000UL ^ (ulong)digestBytes;
    }

    public static void Hash(ReadOnlySpan<byte> input, Span<byte> digest)
    {
        var blake = new Blake2b(digest.Length);
        blake.Update(input);
        blake.Final(digest);
    }

    public void Update(ReadOnlySpan<byte> input)
    {
        while (input.Length > 0)
        {
            // The last block is compressed with the final flag, so a full buffer waits until more input arrives.
            if (_buffered == BlockBytes)
            {
                _counter += BlockBytes;
                Compress(_buffer, last: false);
                _buffered = 0;
            }

            var take = Math.Min(BlockBytes - _buffered, input.Length);
            input[..take].CopyTo(((Span<byte>)_buffer)[_buffered..]);
            _buffered += take;
            input = input[take..];
        }
    }

    public void Update(uint littleEndianWord)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, littleEndianWord);
        Update(bytes);
    }

    public void Final(Span<byte> digest)
    {
        if (digest.Length != _digestBytes)
        {
            throw new ArgumentException($"The digest is {_digestBytes} bytes.", nameof(digest));
        }

        _counter += (ulong)_buffered;
        ((Span<byte>)_buffer)[_buffered..].Clear();
        Compress(_buffer, last: true);
        Span<byte> full = stackalloc byte[MaxDigestBytes];
        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(full[(i * 8)..], _h[i]);
        }

        full[..digest.Length].CopyTo(digest);
        full.Clear();
        ((Span<byte>)_buffer).Clear();
    }

    private void Compress(ReadOnlySpan<byte> block, bool last)
    {
        Span<ulong> m = stackalloc ulong[16];
        MemoryMarshal.Cast<byte, ulong>(block).CopyTo(m);
        if (!BitConverter.IsLittleEndian)
        {
            for (var i = 0; i < 16; i++)
            {
                m[i] = BinaryPrimitives.ReverseEndianness(m[i]);
            }
        }

        Span<ulong> v = stackalloc ulong[16];
        ((ReadOnlySpan<ulong>)_h).CopyTo(v);
        IV.CopyTo(v[8..]);
        v[12] ^= _counter;
        if (last)
        {
            v[14] = ~v[14];
        }

        for (var round = 0; round < 12; round++)
        {
            var s = Sigma.Slice(round % 10 * 16, 16);
            Mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
            Mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
            Mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
            Mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
            Mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
            Mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
            Mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
            Mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
        }

        for (var i = 0; i < 8; i++)
        {
            _h[i] ^= v[i] ^ v[i + 8];
        }
    }

    private static void Mix(Span<ulong> v, int a, int b, int c, int d, ulong x, ulong y)
    {
        v[a] = v[a] + v[b] + x;
        v[d] = BitOperations.RotateRight(v[d] ^ v[a], 32);
        v[c] += v[d];
        v[b] = BitOperations.RotateRight(v[b] ^ v[c], 24);
        v[a] = v[a] + v[b] + y;
        v[d] = BitOperations.RotateRight(v[d] ^ v[a], 16);
        v[c] += v[d];
        v[b] = BitOperations.RotateRight(v[b] ^ v[c], 63);
    }

    [System.Runtime.CompilerServices.InlineArray(8)]
    private struct State8
    {
        private ulong _element;
    }

    [System.Runtime.CompilerServices.InlineArray(BlockBytes)]
    private struct Block128
    {
        private byte _element;
    }
}
