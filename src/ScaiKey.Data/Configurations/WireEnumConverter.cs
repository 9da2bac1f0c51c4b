using System.Text.Json;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace ScaiKey.Data.Configurations;

/// <summary>Stores enums as their wire spelling (ACTIVE, PENDING_APPROVAL) so SQL, sorting and the API agree.</summary>
internal sealed class WireEnumConverter<TEnum>() : ValueConverter<TEnum, string>(v => ToWire(v), v => FromWire(v))
    where TEnum : struct, Enum
{
    private static readonly Dictionary<TEnum, string> ToText =
        Enum.GetValues<TEnum>().ToDictionary(v => v, v => JsonNamingPolicy.SnakeCaseUpper.ConvertName(v.ToString()));

    private static readonly Dictionary<string, TEnum> FromText = ToText.ToDictionary(p => p.Value, p => p.Key);

    private static string ToWire(TEnum value) => ToText[value];

    private static TEnum FromWire(string value) => FromText[value];
}
