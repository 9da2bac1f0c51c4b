using System.Security.Cryptography;
using System.Text;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The Argon2 the service hashes passwords with is its own (Security/Argon2.cs), so its output is held to outside
/// references: RFC 9106's test vectors for all three types, libsodium for random passwords and salts with the
/// parameters the service uses and others, and the portable path against the vector path on the same inputs.
/// </summary>
public sealed class Argon2Tests
{
    [Theory]
    [InlineData("D", "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb")]
    [InlineData("I", "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8")]
    [InlineData("Id", "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")]
    public void Rfc9106_test_vectors_hold(string type, string expected)
    {
        foreach (var portable in new[] { false, true })
        {
            var tag = new byte[32];
            Argon2.Hash(Enum.Parse<Argon2Type>(type), memoryKiB: 32, passes: 3, lanes: 4, Fill(32, 1), Fill(16, 2), tag, Fill(8, 3), Fill(12, 4), portable);
            Assert.Equal(expected, Convert.ToHexStringLower(tag));
        }
    }

    [Theory]
    [InlineData(19 * 1024, 2)]
    [InlineData(8, 1)]
    [InlineData(100, 3)]
    [InlineData(1024 + 12, 1)]
    [InlineData(4096, 4)]
    public void Argon2id_with_one_lane_equals_libsodium_for_random_passwords_and_salts(int memoryKiB, int passes)
    {
        var runs = memoryKiB > 4096 ? 3 : 40;
        for (var run = 0; run < runs; run++)
        {
            var password = RandomNumberGenerator.GetBytes(RandomNumberGenerator.GetInt32(0, 200));
            var salt = RandomNumberGenerator.GetBytes(Geralt.Argon2id.SaltSize);
            var expected = new byte[32];
            Geralt.Argon2id.DeriveKey(expected, password, salt, passes, memoryKiB * 1024);

            var actual = new byte[32];
            Argon2.Hash(Argon2Type.Id, memoryKiB, passes, lanes: 1, password, salt, actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual),
                $"m={memoryKiB} t={passes} password={Convert.ToHexString(password)} salt={Convert.ToHexString(salt)}");
        }
    }

    [Fact]
    public void Tags_of_any_length_equal_libsodiums()
    {
        var password = Encoding.UTF8.GetBytes("Correct-Horse-7");
        var salt = RandomNumberGenerator.GetBytes(Geralt.Argon2id.SaltSize);
        foreach (var length in new[] { 16, 31, 32, 33, 63, 64, 65, 100, 128, 129, 1000 })
        {
            var expected = new byte[length];
            Geralt.Argon2id.DeriveKey(expected, password, salt, 1, 64 * 1024);
            var actual = new byte[length];
            Argon2.Hash(Argon2Type.Id, 64, 1, 1, password, salt, actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"tag length {length}");
        }
    }

    [Fact]
    public void Hashes_stored_before_by_libsodium_verify_and_ours_verify_with_libsodium()
    {
        // Every password hash stored before this code existed was libsodium's crypto_pwhash_str string.
        var hasher = new PasswordHasher();
        var password = "Correct-Horse-7";
        var stored = new char[Geralt.Argon2id.HashSize];
        Geralt.Argon2id.ComputeHash(stored, Encoding.UTF8.GetBytes(password), PasswordHasher.DefaultIterations, PasswordHasher.DefaultMemoryBytes);
        var libsodiums = new string(stored).TrimEnd('\0');
        Assert.True(hasher.Verify(libsodiums, password));
        Assert.False(hasher.Verify(libsodiums, password + "!"));
        Assert.False(hasher.NeedsRehash(libsodiums));

        var ours = hasher.Hash(password);
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", ours);
        Assert.Equal(libsodiums.Length, ours.Length);
        Assert.True(Geralt.Argon2id.VerifyHash(ours, Encoding.UTF8.GetBytes(password)));
        Assert.False(Geralt.Argon2id.VerifyHash(ours, Encoding.UTF8.GetBytes(password + "!")));
        Assert.True(hasher.Verify(ours, password));
    }

    [Fact]
    public void Blake2b_equals_libsodium_for_every_length_and_input_size_around_block_edges()
    {
        foreach (var inputLength in new[] { 0, 1, 3, 4, 64, 127, 128, 129, 255, 256, 257, 1024, 1100 })
        {
            var input = RandomNumberGenerator.GetBytes(inputLength);
            for (var digestLength = Geralt.BLAKE2b.MinHashSize; digestLength <= Geralt.BLAKE2b.MaxHashSize; digestLength++)
            {
                var expected = new byte[digestLength];
                Geralt.BLAKE2b.ComputeHash(expected, input);
                var actual = new byte[digestLength];
                Blake2b.Hash(input, actual);
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"input {inputLength} bytes, digest {digestLength} bytes");
            }
        }
    }

    [Fact]
    public void Blake2b_fed_in_parts_equals_one_call()
    {
        var input = RandomNumberGenerator.GetBytes(777);
        var whole = new byte[64];
        Blake2b.Hash(input, whole);
        foreach (var cut in new[] { 0, 1, 127, 128, 129, 256, 500, 777 })
        {
            var blake = new Blake2b(64);
            blake.Update(input.AsSpan(0, cut));
            blake.Update(input.AsSpan(cut));
            var parts = new byte[64];
            blake.Final(parts);
            Assert.Equal(whole, parts);
        }
    }

    [Fact]
    public void The_same_memory_is_reused_and_gives_the_same_tag_again()
    {
        var password = Encoding.UTF8.GetBytes("Correct-Horse-7");
        var salt = Fill(16, 9);
        var first = new byte[32];
        var second = new byte[32];
        Argon2.Hash(Argon2Type.Id, 2048, 2, 1, password, salt, first);
        Argon2.Hash(Argon2Type.Id, 2048, 2, 1, password, salt, second);
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData("Id", 1, 2048, 2)]
    [InlineData("I", 2, 512, 3)]
    [InlineData("D", 4, 256, 1)]
    public void The_portable_path_equals_the_vector_path(string type, int lanes, int memoryKiB, int passes)
    {
        var password = RandomNumberGenerator.GetBytes(20);
        var salt = RandomNumberGenerator.GetBytes(16);
        var vector = new byte[32];
        var portable = new byte[32];
        Argon2.Hash(Enum.Parse<Argon2Type>(type), memoryKiB, passes, lanes, password, salt, vector);
        Argon2.Hash(Enum.Parse<Argon2Type>(type), memoryKiB, passes, lanes, password, salt, portable, portable: true);
        Assert.Equal(Convert.ToHexString(portable), Convert.ToHexString(vector));
    }

    [Fact]
    public void Memory_is_reused_and_a_few_hashes_of_another_size_do_not_leave_every_later_hash_allocating()
    {
        var pool = new Argon2Memory(maxIdle: 2);
        var password = Encoding.UTF8.GetBytes("Correct-Horse-7");
        var salt = Fill(16, 7);
        var tag = new byte[32];
        void Hash(int memoryKiB) => Argon2.Hash(Argon2Type.Id, memoryKiB, 1, 1, password, salt, tag, pool: pool);

        // Two imported hashes of other sizes fill the idle list first; then the usual size comes, again and again.
        Hash(512);
        Hash(256);
        Assert.Equal(2, pool.Allocations);
        Hash(1024);
        Hash(1024);
        Hash(1024);
        Assert.Equal(3, pool.Allocations);
    }

    private static byte[] Fill(int length, byte value) => Enumerable.Repeat(value, length).ToArray();
}
