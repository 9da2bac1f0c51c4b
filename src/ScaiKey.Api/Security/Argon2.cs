using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ScaiKey.Api.Security;

internal enum Argon2Type
{
    D = 0,
    I = 1,
    Id = 2,
}

/// <summary>
/// Argon2 version 1.3 (RFC 9106), written here so that its 19 MiB of block memory can be kept between hashes.
/// libsodium maps that memory afresh for every hash and unmaps it after, so a third of each of its hashes was the
/// kernel zeroing 4,864 new pages, and more in a busy multi-threaded service than in a bare loop
/// (docs/decisions.md, "Password hashing"). The output is the same bits: tests check it against RFC 9106's vectors
/// and against libsodium for random inputs.
/// <para>
/// With AVX-512 a block's 128 words sit in sixteen 512-bit registers, one word of each of the eight rows per
/// register (the blocks are stored in memory in that order too), so the eight row rounds run as one round on
/// vectors and the eight column rounds after one transpose. Without AVX-512 the portable path computes the same
/// function word by word; <see cref="IsAccelerated"/> tells callers which one runs.
/// </para>
/// </summary>
internal static unsafe class Argon2
{
    public const int Version = 0x13;
    private const int BlockWords = 128;
    private const int BlockBytes = BlockWords * sizeof(ulong);
    private const int SyncPoints = 4;
    private const int AddressesPerBlock = BlockWords;

    public static bool IsAccelerated => Avx512F.IsSupported;

    /// <summary>
    /// Computes an Argon2 tag into <paramref name="tag"/> (its length is the tag length, 4 bytes or more);
    /// <paramref name="portable"/> runs the word-by-word path even where the vector path could; <paramref name="pool"/>
    /// is where the block memory comes from (the process-wide one unless a test brings its own).
    /// </summary>
    public static void Hash(
        Argon2Type type,
        int memoryKiB,
        int passes,
        int lanes,
        ReadOnlySpan<byte> password,
        ReadOnlySpan<byte> salt,
        Span<byte> tag,
        ReadOnlySpan<byte> secret = default,
        ReadOnlySpan<byte> associatedData = default,
        bool portable = false,
        Argon2Memory? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lanes, 0xFFFFFF);
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryKiB, 8 * lanes);
        ArgumentOutOfRangeException.ThrowIfLessThan(tag.Length, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(salt.Length, 8);

        var laneLength = memoryKiB / (SyncPoints * lanes) * SyncPoints;
        var instance = new Instance(type, passes, lanes, laneLength, IsAccelerated && !portable);

        Span<byte> h0 = stackalloc byte[Blake2b.MaxDigestBytes + 8];
        var blake = new Blake2b(Blake2b.MaxDigestBytes);
        blake.Update((uint)lanes);
        blake.Update((uint)tag.Length);
        blake.Update((uint)memoryKiB);
        blake.Update((uint)passes);
        blake.Update(Version);
        blake.Update((uint)type);
        blake.Update((uint)password.Length);
        blake.Update(password);
        blake.Update((uint)salt.Length);
        blake.Update(salt);
        blake.Update((uint)secret.Length);
        blake.Update(secret);
        blake.Update((uint)associatedData.Length);
        blake.Update(associatedData);
        blake.Final(h0[..Blake2b.MaxDigestBytes]);

        using var memory = (pool ?? Argon2Memory.Shared).Rent((nuint)instance.Blocks * BlockBytes);
        instance.Memory = (ulong*)memory.Pointer;
        try
        {
            Span<byte> block = stackalloc byte[BlockBytes];
            for (var lane = 0; lane < lanes; lane++)
            {
                for (var column = 0; column < 2; column++)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(h0[Blake2b.MaxDigestBytes..], (uint)column);
                    BinaryPrimitives.WriteUInt32LittleEndian(h0[(Blake2b.MaxDigestBytes + 4)..], (uint)lane);
                    VariableHash(h0, block);
                    instance.ImportBlock(block, instance.BlockAt(lane * laneLength + column));
                }
            }

            for (var pass = 0; pass < passes; pass++)
            {
                for (var slice = 0; slice < SyncPoints; slice++)
                {
                    for (var lane = 0; lane < lanes; lane++)
                    {
                        instance.FillSegment(pass, slice, lane);
                    }
                }
            }

            var last = instance.BlockAt(laneLength - 1);
            for (var lane = 1; lane < lanes; lane++)
            {
                var other = instance.BlockAt(lane * laneLength + laneLength - 1);
                for (var i = 0; i < BlockWords; i++)
                {
                    last[i] ^= other[i];
                }
            }

            instance.ExportBlock(last, block);
            VariableHash(block, tag);
            block.Clear();
        }
        finally
        {
            h0.Clear();
        }
    }

    /// <summary>H' of RFC 9106 section 3.3: BLAKE2b stretched to any output length.</summary>
    private static void VariableHash(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var blake = new Blake2b(Math.Min(output.Length, Blake2b.MaxDigestBytes));
        blake.Update((uint)output.Length);
        blake.Update(input);
        if (output.Length <= Blake2b.MaxDigestBytes)
        {
            blake.Final(output);
            return;
        }

        Span<byte> v = stackalloc byte[Blake2b.MaxDigestBytes];
        blake.Final(v);
        var written = 0;
        while (output.Length - written > Blake2b.MaxDigestBytes)
        {
            v[..32].CopyTo(output[written..]);
            written += 32;
            var next = new Blake2b(Math.Min(output.Length - written, Blake2b.MaxDigestBytes));
            next.Update(v);
            if (output.Length - written <= Blake2b.MaxDigestBytes)
            {
                next.Final(output[written..]);
                v.Clear();
                return;
            }

            next.Final(v);
        }
    }

    private struct Instance(Argon2Type type, int passes, int lanes, int laneLength, bool vectorLayout)
    {
        public ulong* Memory;

        public readonly int Blocks => lanes * laneLength;

        private readonly int SegmentLength => laneLength / SyncPoints;

        public readonly ulong* BlockAt(int index) => Memory + ((nint)index * BlockWords);

        /// <summary>Where word <paramref name="word"/> of the standard order sits in a stored block.</summary>
        private readonly int Position(int word) => vectorLayout ? ((word & 15) * 8) + (word >> 4) : word;

        public readonly void ImportBlock(ReadOnlySpan<byte> bytes, ulong* block)
        {
            for (var i = 0; i < BlockWords; i++)
            {
                block[Position(i)] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(i * 8)..]);
            }
        }

        public readonly void ExportBlock(ulong* block, Span<byte> bytes)
        {
            for (var i = 0; i < BlockWords; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bytes[(i * 8)..], block[Position(i)]);
            }
        }

        public readonly void FillSegment(int pass, int slice, int lane)
        {
            var dataIndependent = type == Argon2Type.I || (type == Argon2Type.Id && pass == 0 && slice < SyncPoints / 2);
            var zero = stackalloc ulong[BlockWords + 8];
            var input = stackalloc ulong[BlockWords + 8];
            var addresses = stackalloc ulong[BlockWords + 8];
            var zeroBlock = Align(zero);
            var inputBlock = Align(input);
            var addressBlock = Align(addresses);
            if (dataIndependent)
            {
                new Span<ulong>(zeroBlock, BlockWords).Clear();
                new Span<ulong>(inputBlock, BlockWords).Clear();
                inputBlock[Position(0)] = (ulong)pass;
                inputBlock[Position(1)] = (ulong)lane;
                inputBlock[Position(2)] = (ulong)slice;
                inputBlock[Position(3)] = (ulong)Blocks;
                inputBlock[Position(4)] = (ulong)passes;
                inputBlock[Position(5)] = (ulong)type;
            }

            var start = 0;
            if (pass == 0 && slice == 0)
            {
                start = 2;
                if (dataIndependent)
                {
                    NextAddresses(zeroBlock, inputBlock, addressBlock);
                }
            }

            var current = (lane * laneLength) + (slice * SegmentLength) + start;
            var previous = current % laneLength == 0 ? current + laneLength - 1 : current - 1;
            for (var index = start; index < SegmentLength; index++, current++, previous++)
            {
                if (current % laneLength == 1)
                {
                    previous = current - 1;
                }

                ulong pseudoRandom;
                if (dataIndependent)
                {
                    if (index % AddressesPerBlock == 0)
                    {
                        NextAddresses(zeroBlock, inputBlock, addressBlock);
                    }

                    pseudoRandom = addressBlock[Position(index % AddressesPerBlock)];
                }
                else
                {
                    pseudoRandom = BlockAt(previous)[0];
                }

                var referenceLane = pass == 0 && slice == 0 ? lane : (int)((pseudoRandom >> 32) % (ulong)lanes);
                var referenceIndex = ReferenceIndex(pass, slice, index, (uint)pseudoRandom, referenceLane == lane);
                FillBlock(BlockAt(previous), BlockAt((referenceLane * laneLength) + referenceIndex), BlockAt(current), pass != 0);
            }

            if (dataIndependent)
            {
                new Span<ulong>(addressBlock, BlockWords).Clear();
            }
        }

        private readonly void NextAddresses(ulong* zeroBlock, ulong* inputBlock, ulong* addressBlock)
        {
            inputBlock[Position(6)]++;
            FillBlock(zeroBlock, inputBlock, addressBlock, xorInto: false);
            FillBlock(zeroBlock, addressBlock, addressBlock, xorInto: false);
        }

        private readonly int ReferenceIndex(int pass, int slice, int index, uint pseudoRandom, bool sameLane)
        {
            long area;
            if (pass == 0)
            {
                area = slice == 0 ? index - 1
                    : sameLane ? (slice * SegmentLength) + index - 1
                    : (slice * SegmentLength) + (index == 0 ? -1 : 0);
            }
            else
            {
                area = sameLane ? laneLength - SegmentLength + index - 1
                    : laneLength - SegmentLength + (index == 0 ? -1 : 0);
            }

            ulong relative = pseudoRandom;
            relative = (relative * relative) >> 32;
            relative = (ulong)area - 1 - (((ulong)area * relative) >> 32);
            var startPosition = pass == 0 || slice == SyncPoints - 1 ? 0UL : (ulong)((slice + 1) * SegmentLength);
            return (int)((startPosition + relative) % (ulong)laneLength);
        }

        private readonly void FillBlock(ulong* previous, ulong* reference, ulong* next, bool xorInto)
        {
            if (vectorLayout)
            {
                FillBlockAvx512(previous, reference, next, xorInto);
            }
            else
            {
                FillBlockPortable(previous, reference, next, xorInto);
            }
        }
    }

    private static ulong* Align(ulong* pointer) => (ulong*)(((nint)pointer + 63) & ~(nint)63);

    // The compression function G of RFC 9106 section 3.5, word by word: next = P(columns(P(rows(R)))) ^ R, with
    // R = previous ^ reference, XORed into next's old value from the second pass on.
    private static void FillBlockPortable(ulong* previous, ulong* reference, ulong* next, bool xorInto)
    {
        var r = stackalloc ulong[BlockWords];
        var q = stackalloc ulong[BlockWords];
        for (var i = 0; i < BlockWords; i++)
        {
            r[i] = previous[i] ^ reference[i];
            q[i] = r[i];
        }

        for (var row = 0; row < 8; row++)
        {
            var w = q + (16 * row);
            Round(ref w[0], ref w[1], ref w[2], ref w[3], ref w[4], ref w[5], ref w[6], ref w[7],
                ref w[8], ref w[9], ref w[10], ref w[11], ref w[12], ref w[13], ref w[14], ref w[15]);
        }

        for (var column = 0; column < 8; column++)
        {
            var w = q + (2 * column);
            Round(ref w[0], ref w[1], ref w[16], ref w[17], ref w[32], ref w[33], ref w[48], ref w[49],
                ref w[64], ref w[65], ref w[80], ref w[81], ref w[96], ref w[97], ref w[112], ref w[113]);
        }

        for (var i = 0; i < BlockWords; i++)
        {
            next[i] = xorInto ? next[i] ^ q[i] ^ r[i] : q[i] ^ r[i];
        }
    }

    private static void Round(
        ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3, ref ulong v4, ref ulong v5, ref ulong v6, ref ulong v7,
        ref ulong v8, ref ulong v9, ref ulong v10, ref ulong v11, ref ulong v12, ref ulong v13, ref ulong v14, ref ulong v15)
    {
        Mix(ref v0, ref v4, ref v8, ref v12);
        Mix(ref v1, ref v5, ref v9, ref v13);
        Mix(ref v2, ref v6, ref v10, ref v14);
        Mix(ref v3, ref v7, ref v11, ref v15);
        Mix(ref v0, ref v5, ref v10, ref v15);
        Mix(ref v1, ref v6, ref v11, ref v12);
        Mix(ref v2, ref v7, ref v8, ref v13);
        Mix(ref v3, ref v4, ref v9, ref v14);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mix(ref ulong a, ref ulong b, ref ulong c, ref ulong d)
    {
        a = a + b + (2 * (ulong)(uint)a * (uint)b);
        d = BitOperations.RotateRight(d ^ a, 32);
        c = c + d + (2 * (ulong)(uint)c * (uint)d);
        b = BitOperations.RotateRight(b ^ c, 24);
        a = a + b + (2 * (ulong)(uint)a * (uint)b);
        d = BitOperations.RotateRight(d ^ a, 16);
        c = c + d + (2 * (ulong)(uint)c * (uint)d);
        b = BitOperations.RotateRight(b ^ c, 63);
    }

    // The same G on the vector layout: register k holds word k of each of the eight 16-word rows, so one vector
    // round is the eight row rounds. Transposing the even and the odd registers as two 8x8 matrices gives register
    // k = word k of each of the eight columns, and transposing back restores the stored order.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FillBlockAvx512(ulong* previous, ulong* reference, ulong* next, bool xorInto)
    {
        var v0 = Avx512F.LoadAlignedVector512(previous) ^ Avx512F.LoadAlignedVector512(reference);
        var v1 = Avx512F.LoadAlignedVector512(previous + 8) ^ Avx512F.LoadAlignedVector512(reference + 8);
        var v2 = Avx512F.LoadAlignedVector512(previous + 16) ^ Avx512F.LoadAlignedVector512(reference + 16);
        var v3 = Avx512F.LoadAlignedVector512(previous + 24) ^ Avx512F.LoadAlignedVector512(reference + 24);
        var v4 = Avx512F.LoadAlignedVector512(previous + 32) ^ Avx512F.LoadAlignedVector512(reference + 32);
        var v5 = Avx512F.LoadAlignedVector512(previous + 40) ^ Avx512F.LoadAlignedVector512(reference + 40);
        var v6 = Avx512F.LoadAlignedVector512(previous + 48) ^ Avx512F.LoadAlignedVector512(reference + 48);
        var v7 = Avx512F.LoadAlignedVector512(previous + 56) ^ Avx512F.LoadAlignedVector512(reference + 56);
        var v8 = Avx512F.LoadAlignedVector512(previous + 64) ^ Avx512F.LoadAlignedVector512(reference + 64);
        var v9 = Avx512F.LoadAlignedVector512(previous + 72) ^ Avx512F.LoadAlignedVector512(reference + 72);
        var v10 = Avx512F.LoadAlignedVector512(previous + 80) ^ Avx512F.LoadAlignedVector512(reference + 80);
        var v11 = Avx512F.LoadAlignedVector512(previous + 88) ^ Avx512F.LoadAlignedVector512(reference + 88);
        var v12 = Avx512F.LoadAlignedVector512(previous + 96) ^ Avx512F.LoadAlignedVector512(reference + 96);
        var v13 = Avx512F.LoadAlignedVector512(previous + 104) ^ Avx512F.LoadAlignedVector512(reference + 104);
        var v14 = Avx512F.LoadAlignedVector512(previous + 112) ^ Avx512F.LoadAlignedVector512(reference + 112);
        var v15 = Avx512F.LoadAlignedVector512(previous + 120) ^ Avx512F.LoadAlignedVector512(reference + 120);

        // next keeps R (XORed with its old value from the second pass on) until the rounds' result is XORed in.
        if (xorInto)
        {
            Avx512F.StoreAligned(next, v0 ^ Avx512F.LoadAlignedVector512(next));
            Avx512F.StoreAligned(next + 8, v1 ^ Avx512F.LoadAlignedVector512(next + 8));
            Avx512F.StoreAligned(next + 16, v2 ^ Avx512F.LoadAlignedVector512(next + 16));
            Avx512F.StoreAligned(next + 24, v3 ^ Avx512F.LoadAlignedVector512(next + 24));
            Avx512F.StoreAligned(next + 32, v4 ^ Avx512F.LoadAlignedVector512(next + 32));
            Avx512F.StoreAligned(next + 40, v5 ^ Avx512F.LoadAlignedVector512(next + 40));
            Avx512F.StoreAligned(next + 48, v6 ^ Avx512F.LoadAlignedVector512(next + 48));
            Avx512F.StoreAligned(next + 56, v7 ^ Avx512F.LoadAlignedVector512(next + 56));
            Avx512F.StoreAligned(next + 64, v8 ^ Avx512F.LoadAlignedVector512(next + 64));
            Avx512F.StoreAligned(next + 72, v9 ^ Avx512F.LoadAlignedVector512(next + 72));
            Avx512F.StoreAligned(next + 80, v10 ^ Avx512F.LoadAlignedVector512(next + 80));
            Avx512F.StoreAligned(next + 88, v11 ^ Avx512F.LoadAlignedVector512(next + 88));
            Avx512F.StoreAligned(next + 96, v12 ^ Avx512F.LoadAlignedVector512(next + 96));
            Avx512F.StoreAligned(next + 104, v13 ^ Avx512F.LoadAlignedVector512(next + 104));
            Avx512F.StoreAligned(next + 112, v14 ^ Avx512F.LoadAlignedVector512(next + 112));
            Avx512F.StoreAligned(next + 120, v15 ^ Avx512F.LoadAlignedVector512(next + 120));
        }
        else
        {
            Avx512F.StoreAligned(next, v0);
            Avx512F.StoreAligned(next + 8, v1);
            Avx512F.StoreAligned(next + 16, v2);
            Avx512F.StoreAligned(next + 24, v3);
            Avx512F.StoreAligned(next + 32, v4);
            Avx512F.StoreAligned(next + 40, v5);
            Avx512F.StoreAligned(next + 48, v6);
            Avx512F.StoreAligned(next + 56, v7);
            Avx512F.StoreAligned(next + 64, v8);
            Avx512F.StoreAligned(next + 72, v9);
            Avx512F.StoreAligned(next + 80, v10);
            Avx512F.StoreAligned(next + 88, v11);
            Avx512F.StoreAligned(next + 96, v12);
            Avx512F.StoreAligned(next + 104, v13);
            Avx512F.StoreAligned(next + 112, v14);
            Avx512F.StoreAligned(next + 120, v15);
        }

        Round(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7,
            ref v8, ref v9, ref v10, ref v11, ref v12, ref v13, ref v14, ref v15);
        Transpose(ref v0, ref v2, ref v4, ref v6, ref v8, ref v10, ref v12, ref v14);
        Transpose(ref v1, ref v3, ref v5, ref v7, ref v9, ref v11, ref v13, ref v15);
        Round(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7,
            ref v8, ref v9, ref v10, ref v11, ref v12, ref v13, ref v14, ref v15);
        Transpose(ref v0, ref v2, ref v4, ref v6, ref v8, ref v10, ref v12, ref v14);
        Transpose(ref v1, ref v3, ref v5, ref v7, ref v9, ref v11, ref v13, ref v15);

        Avx512F.StoreAligned(next, v0 ^ Avx512F.LoadAlignedVector512(next));
        Avx512F.StoreAligned(next + 8, v1 ^ Avx512F.LoadAlignedVector512(next + 8));
        Avx512F.StoreAligned(next + 16, v2 ^ Avx512F.LoadAlignedVector512(next + 16));
        Avx512F.StoreAligned(next + 24, v3 ^ Avx512F.LoadAlignedVector512(next + 24));
        Avx512F.StoreAligned(next + 32, v4 ^ Avx512F.LoadAlignedVector512(next + 32));
        Avx512F.StoreAligned(next + 40, v5 ^ Avx512F.LoadAlignedVector512(next + 40));
        Avx512F.StoreAligned(next + 48, v6 ^ Avx512F.LoadAlignedVector512(next + 48));
        Avx512F.StoreAligned(next + 56, v7 ^ Avx512F.LoadAlignedVector512(next + 56));
        Avx512F.StoreAligned(next + 64, v8 ^ Avx512F.LoadAlignedVector512(next + 64));
        Avx512F.StoreAligned(next + 72, v9 ^ Avx512F.LoadAlignedVector512(next + 72));
        Avx512F.StoreAligned(next + 80, v10 ^ Avx512F.LoadAlignedVector512(next + 80));
        Avx512F.StoreAligned(next + 88, v11 ^ Avx512F.LoadAlignedVector512(next + 88));
        Avx512F.StoreAligned(next + 96, v12 ^ Avx512F.LoadAlignedVector512(next + 96));
        Avx512F.StoreAligned(next + 104, v13 ^ Avx512F.LoadAlignedVector512(next + 104));
        Avx512F.StoreAligned(next + 112, v14 ^ Avx512F.LoadAlignedVector512(next + 112));
        Avx512F.StoreAligned(next + 120, v15 ^ Avx512F.LoadAlignedVector512(next + 120));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round(
        ref Vector512<ulong> v0, ref Vector512<ulong> v1, ref Vector512<ulong> v2, ref Vector512<ulong> v3,
        ref Vector512<ulong> v4, ref Vector512<ulong> v5, ref Vector512<ulong> v6, ref Vector512<ulong> v7,
        ref Vector512<ulong> v8, ref Vector512<ulong> v9, ref Vector512<ulong> v10, ref Vector512<ulong> v11,
        ref Vector512<ulong> v12, ref Vector512<ulong> v13, ref Vector512<ulong> v14, ref Vector512<ulong> v15)
    {
        Mix(ref v0, ref v4, ref v8, ref v12);
        Mix(ref v1, ref v5, ref v9, ref v13);
        Mix(ref v2, ref v6, ref v10, ref v14);
        Mix(ref v3, ref v7, ref v11, ref v15);
        Mix(ref v0, ref v5, ref v10, ref v15);
        Mix(ref v1, ref v6, ref v11, ref v12);
        Mix(ref v2, ref v7, ref v8, ref v13);
        Mix(ref v3, ref v4, ref v9, ref v14);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mix(ref Vector512<ulong> a, ref Vector512<ulong> b, ref Vector512<ulong> c, ref Vector512<ulong> d)
    {
        a = BlaMka(a, b);
        d = Avx512F.RotateRight(d ^ a, 32);
        c = BlaMka(c, d);
        b = Avx512F.RotateRight(b ^ c, 24);
        a = BlaMka(a, b);
        d = Avx512F.RotateRight(d ^ a, 16);
        c = BlaMka(c, d);
        b = Avx512F.RotateRight(b ^ c, 63);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> BlaMka(Vector512<ulong> x, Vector512<ulong> y)
    {
        var product = Avx512F.Multiply(x.AsUInt32(), y.AsUInt32());
        return x + y + product + product;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(
        ref Vector512<ulong> r0, ref Vector512<ulong> r1, ref Vector512<ulong> r2, ref Vector512<ulong> r3,
        ref Vector512<ulong> r4, ref Vector512<ulong> r5, ref Vector512<ulong> r6, ref Vector512<ulong> r7)
    {
        var t0 = Avx512F.UnpackLow(r0, r1);
        var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3);
        var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5);
        var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7);
        var t7 = Avx512F.UnpackHigh(r6, r7);

        var low128 = Vector512.Create(0UL, 1, 8, 9, 4, 5, 12, 13);
        var high128 = Vector512.Create(2UL, 3, 10, 11, 6, 7, 14, 15);
        var u0 = Avx512F.PermuteVar8x64x2(t0, low128, t2);
        var u2 = Avx512F.PermuteVar8x64x2(t0, high128, t2);
        var u1 = Avx512F.PermuteVar8x64x2(t1, low128, t3);
        var u3 = Avx512F.PermuteVar8x64x2(t1, high128, t3);
        var u4 = Avx512F.PermuteVar8x64x2(t4, low128, t6);
        var u6 = Avx512F.PermuteVar8x64x2(t4, high128, t6);
        var u5 = Avx512F.PermuteVar8x64x2(t5, low128, t7);
        var u7 = Avx512F.PermuteVar8x64x2(t5, high128, t7);

        var low256 = Vector512.Create(0UL, 1, 2, 3, 8, 9, 10, 11);
        var high256 = Vector512.Create(4UL, 5, 6, 7, 12, 13, 14, 15);
        r0 = Avx512F.PermuteVar8x64x2(u0, low256, u4);
        r4 = Avx512F.PermuteVar8x64x2(u0, high256, u4);
        r1 = Avx512F.PermuteVar8x64x2(u1, low256, u5);
        r5 = Avx512F.PermuteVar8x64x2(u1, high256, u5);
        r2 = Avx512F.PermuteVar8x64x2(u2, low256, u6);
        r6 = Avx512F.PermuteVar8x64x2(u2, high256, u6);
        r3 = Avx512F.PermuteVar8x64x2(u3, low256, u7);
        r7 = Avx512F.PermuteVar8x64x2(u3, high256, u7);
    }
}
