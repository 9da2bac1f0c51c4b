namespace ScaiKey.Api.OpenApi;

/// <summary>Not listed in the schema's "required" although it is not nullable (it has a server-side default).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
internal sealed class ApiOptionalAttribute : Attribute;

/// <summary>The documented default of a field; implies optional.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
internal sealed class ApiDefaultAttribute(object value) : Attribute
{
    public object Value { get; } = value;
}

/// <summary>A JSON schema "format" such as email or date-time.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
internal sealed class ApiFormatAttribute(string format) : Attribute
{
    public string Format { get; } = format;
}

/// <summary>Marks operations whose reference entry lists the authorization header as a parameter.</summary>
internal sealed class AuthorizationHeaderDocumented
{
    public static readonly AuthorizationHeaderDocumented Instance = new();
}

/// <summary>The request body an endpoint reads itself (bodies are bound by hand to produce FastAPI-style 422s).</summary>
internal sealed record RequestBodyMetadata(Type Type);
