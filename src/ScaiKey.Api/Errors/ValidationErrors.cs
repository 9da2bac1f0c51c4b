using ScaiKey.Api.Http;

namespace ScaiKey.Api.Errors;

internal sealed record ValidationError([property: OpenApi.ApiItemTypes("string", "integer")] IReadOnlyList<object> Loc, string Msg, string Type);

internal sealed record HTTPValidationError([property: OpenApi.ApiOptional] IReadOnlyList<ValidationError> Detail);

/// <summary>
/// Collects every failing field of a request, FastAPI/pydantic style, so a client sees all problems at once.
/// </summary>
internal sealed class ValidationErrors
{
    private readonly List<ValidationError> _errors = [];

    public bool Any => _errors.Count > 0;

    public IReadOnlyList<ValidationError> Items => _errors;

    public void Add(IReadOnlyList<object> loc, string msg, string type) => _errors.Add(new ValidationError(loc, msg, type));

    public void AddRange(ValidationErrors? other)
    {
        if (other is not null)
        {
            _errors.AddRange(other._errors);
        }
    }

    public void Body(string field, string msg, string type) => Add(["body", field], msg, type);

    public void Query(string field, string msg, string type) => Add(["query", field], msg, type);

    public void Missing(params object[] loc) => Add(loc, "Field required", "missing");

    public void ValueError(IReadOnlyList<object> loc, string message) => Add(loc, "Value error, " + message, "value_error");

    public IResult ToResult() => new ValidationProblemResult(new HTTPValidationError(_errors));
}

internal sealed class ValidationProblemResult(HTTPValidationError body) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        return httpContext.Response.WriteAsJsonAsync(body, ApiJson.Options);
    }
}
