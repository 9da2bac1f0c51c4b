using System.Buffers.Binary;
using System.Buffers.Text;
using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// A passkey authenticator in the test process, for HTTP-level tests of the ceremonies: one ES256 credential, "none"
/// attestation, answers to the server's options as a browser would post them (WebAuthn JSON, base64url). What the
/// server checks of them is Fido2's work; this only has to produce what a real authenticator would.
/// </summary>
internal sealed class SoftwareAuthenticator : IDisposable
{
    // The origin of requests to the in-memory test server (WebApplicationFactory's http://localhost).
    public const string TestServerOrigin = "http://localhost";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private byte[]? _userHandle;

    public byte[] CredentialId { get; } = RandomNumberGenerator.GetBytes(16);

    /// <summary>The signature counter the next answer carries, minus one.</summary>
    public uint Counter { get; set; }

    public void Dispose() => _key.Dispose();

    /// <summary>An answer to navigator.credentials.create() with <paramref name="publicKey"/> (the server's options).</summary>
    public string Create(JsonNode publicKey, string origin = TestServerOrigin)
    {
        var rpId = publicKey["rp"]!["id"]!.GetValue<string>();
        _userHandle = Base64Url.DecodeFromChars(publicKey["user"]!["id"]!.GetValue<string>());
        var clientData = ClientData("webauthn.create", publicKey["challenge"]!.GetValue<string>(), origin);

        var parameters = _key.ExportParameters(includePrivateParameters: false);
        var cose = new CborWriter(CborConformanceMode.Ctap2Canonical);
        cose.WriteStartMap(5);
        cose.WriteInt32(1);
        cose.WriteInt32(2); // kty: EC2
        cose.WriteInt32(3);
        cose.WriteInt32(-7); // alg: ES256
        cose.WriteInt32(-1);
        cose.WriteInt32(1); // crv: P-256
        cose.WriteInt32(-2);
        cose.WriteByteString(parameters.Q.X!);
        cose.WriteInt32(-3);
        cose.WriteByteString(parameters.Q.Y!);
        cose.WriteEndMap();

        var attested = new List<byte>();
        attested.AddRange(new byte[16]); // AAGUID: none
        attested.Add((byte)(CredentialId.Length >> 8));
        attested.Add((byte)CredentialId.Length);
        attested.AddRange(CredentialId);
        attested.AddRange(cose.Encode());

        // UP, UV and AT (attested credential data included).
        var authData = AuthenticatorData(rpId, 0x01 | 0x04 | 0x40, [.. attested]);
        var attestation = new CborWriter(CborConformanceMode.Ctap2Canonical);
        attestation.WriteStartMap(3);
        attestation.WriteTextString("fmt");
        attestation.WriteTextString("none");
        attestation.WriteTextString("attStmt");
        attestation.WriteStartMap(0);
        attestation.WriteEndMap();
        attestation.WriteTextString("authData");
        attestation.WriteByteString(authData);
        attestation.WriteEndMap();

        return new JsonObject
        {
            ["id"] = Base64Url.EncodeToString(CredentialId),
            ["rawId"] = Base64Url.EncodeToString(CredentialId),
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["attestationObject"] = Base64Url.EncodeToString(attestation.Encode()),
                ["clientDataJSON"] = Base64Url.EncodeToString(clientData),
                ["transports"] = new JsonArray("internal"),
            },
            ["clientExtensionResults"] = new JsonObject(),
        }.ToJsonString();
    }

    /// <summary>An answer to navigator.credentials.get() with <paramref name="publicKey"/>; the counter goes up by one.</summary>
    public string Get(JsonNode publicKey, string origin = TestServerOrigin, bool userVerified = true)
    {
        var rpId = publicKey["rpId"]!.GetValue<string>();
        var clientData = ClientData("webauthn.get", publicKey["challenge"]!.GetValue<string>(), origin);
        Counter++;
        var authData = AuthenticatorData(rpId, (byte)(userVerified ? 0x05 : 0x01), []);
        var signature = _key.SignData([.. authData, .. SHA256.HashData(clientData)], HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new JsonObject
        {
            ["id"] = Base64Url.EncodeToString(CredentialId),
            ["rawId"] = Base64Url.EncodeToString(CredentialId),
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["authenticatorData"] = Base64Url.EncodeToString(authData),
                ["clientDataJSON"] = Base64Url.EncodeToString(clientData),
                ["signature"] = Base64Url.EncodeToString(signature),
                ["userHandle"] = _userHandle is null ? null : Base64Url.EncodeToString(_userHandle),
            },
            ["clientExtensionResults"] = new JsonObject(),
        }.ToJsonString();
    }

    private static byte[] ClientData(string type, string challenge, string origin) =>
        Encoding.UTF8.GetBytes(new JsonObject { ["type"] = type, ["challenge"] = challenge, ["origin"] = origin, ["crossOrigin"] = false }.ToJsonString());

    private byte[] AuthenticatorData(string rpId, byte flags, byte[] attested)
    {
        var counter = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(counter, Counter);
        return [.. SHA256.HashData(Encoding.UTF8.GetBytes(rpId)), flags, .. counter, .. attested];
    }
}
