using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;
using ScaiKey.Data;

namespace ScaiKey.Api.Security;

/// <summary>
/// ASP.NET Data Protection with its key ring in the database (table data_protection_keys), so every instance that
/// shares the database protects and unprotects alike (antiforgery, framework cookies). Each key's XML is sealed
/// under the key-encryption key (<see cref="KeyRing"/>) like the other secrets in the database.
/// </summary>
internal static class DataProtectionSetup
{
    /// <summary>One name for all instances: Data Protection isolates applications by it (the default is the content root path).</summary>
    public const string ApplicationName = "ScaiKey";

    public static IServiceCollection AddScaiKeyDataProtection(this IServiceCollection services)
    {
        services.AddDataProtection()
            .SetApplicationName(ApplicationName)
            .PersistKeysToDbContext<ScaiKeyDbContext>();
        services.AddOptions<KeyManagementOptions>()
            .Configure<KeyRing>((options, keyRing) => options.XmlEncryptor = new KeyRingXmlEncryptor(keyRing));
        return services;
    }
}

/// <summary>Seals a Data Protection key's XML with the key-encryption key (AES-256-GCM in <see cref="KeyRing"/>).</summary>
internal sealed class KeyRingXmlEncryptor(KeyRing keyRing) : IXmlEncryptor
{
    public const string Element = "sealedKey";
    public const string Context = "data-protection-key";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var sealedValue = keyRing.Seal(Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting)), Context);
        return new EncryptedXmlInfo(new XElement(Element, sealedValue), typeof(KeyRingXmlDecryptor));
    }
}

/// <summary>Opens what <see cref="KeyRingXmlEncryptor"/> sealed; created by Data Protection through the service provider.</summary>
internal sealed class KeyRingXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var keyRing = services.GetRequiredService<KeyRing>();
        var plaintext = keyRing.Open(encryptedElement.Value, KeyRingXmlEncryptor.Context);
        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}
