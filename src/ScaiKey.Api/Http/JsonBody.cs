using System.Buffers;
using System.Text;
using System.Text.Json;
using ScaiKey.Api.Errors;

namespace ScaiKey.Api.Http;

/// <summary>The outcome of reading a JSON request body: an object to bind, or a response to send instead.</summary>
internal readonly record struct BodyReadResult(JsonElement Root, byte[] Raw, IResult? Failure);

internal readonly record struct BoundBody<T>(T? Value, IResult? Failure, byte[] Raw);

internal static class JsonBody
{
    public const int MaxBytes = 1024 * 1024;

    /// <summary>Reads the body with our own limit, so the 1 MiB rule holds under any server, not only Kestrel.</summary>
    public static async Task<BodyReadResult> ReadAsync(HttpContext http)
    {
        if (http.Request.ContentLength > MaxBytes)
        {
            return new(default, [], Problems.PayloadTooLarge());
        }

        var contentType = http.Request.ContentType;
        if (contentType is not null && !IsJson(contentType))
        {
            return new(default, [], Problems.UnsupportedMediaType());
        }

        var buffer = new ArrayBufferWriter<byte>();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (buffer.WrittenCount + read > MaxBytes)
            {
                return new(default, [], Problems.PayloadTooLarge());
            }

            buffer.Write(chunk.AsSpan(0, read));
        }

        var raw = buffer.WrittenSpan.ToArray();
        var errors = new ValidationErrors();
        if (raw.Length == 0 || raw.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            errors.Missing("body");
            return new(default, raw, errors.ToResult());
        }

        try
        {
            using var document = JsonDocument.Parse(raw, new JsonDocumentOptions { MaxDepth = 64 });
            var root = document.RootElement.Clone();
            if (root.ValueKind != JsonValueKind.Object)
            {
                errors.Add(["body"], "Input should be a valid dictionary or object to extract fields from", "model_attributes_type");
                return new(default, raw, errors.ToResult());
            }

            return new(root, raw, null);
        }
        catch (JsonException ex)
        {
            errors.Add(["body", CharOffset(raw, ex)], "JSON decode error", "json_invalid");
            return new(default, raw, errors.ToResult());
        }
    }

    /// <summary>
    /// Reads the body and binds it with <paramref name="read"/>; unknown fields are rejected. On any problem,
    /// Failure holds the response to send (413, 415 or a 422 listing every failing field).
    /// </summary>
    public static async Task<BoundBody<T>> BindAsync<T>(HttpContext http, Func<BodyReader, T> read, Action<BodyReadResult, ValidationErrors>? extra = null)
    {
        var body = await ReadAsync(http);
        if (body.Failure is not null)
        {
            return new(default, body.Failure, body.Raw);
        }

        var errors = new ValidationErrors();
        var reader = new BodyReader(body.Root, errors);
        T value;
        try
        {
            value = read(reader);
            reader.RejectUnknownFields();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // JsonDocument accepts escapes such as a lone "\ud800" or duplicate keys that cannot become .NET strings
            // or objects; that is bad input, not a server fault.
            var invalid = new ValidationErrors();
            invalid.Add(["body"], "JSON decode error: the body contains a string or object that cannot be decoded (lone surrogate escape or duplicate key)", "json_invalid");
            return new(default, invalid.ToResult(), body.Raw);
        }

        extra?.Invoke(body, errors);
        return errors.Any ? new(default, errors.ToResult(), body.Raw) : new(value, null, body.Raw);
    }

    private static bool IsJson(string contentType)
    {
        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    // FastAPI reports the character (not byte) position where decoding failed.
    private static int CharOffset(byte[] raw, JsonException ex)
    {
        var line = (int)(ex.LineNumber ?? 0);
        var bytePos = (int)(ex.BytePositionInLine ?? 0);
        var lineStart = 0;
        for (var i = 0; i < line && lineStart < raw.Length; i++)
        {
            var next = Array.IndexOf(raw, (byte)'\n', lineStart);
            if (next < 0)
            {
                break;
            }

            lineStart = next + 1;
        }

        var byteOffset = Math.Min(raw.Length, lineStart + bytePos);
        return Encoding.UTF8.GetCharCount(raw, 0, byteOffset);
    }
}
