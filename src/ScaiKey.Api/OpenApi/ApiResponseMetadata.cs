namespace ScaiKey.Api.OpenApi;

/// <summary>A documented response; <see cref="Type"/> null means "any JSON".</summary>
internal sealed record ApiResponseMetadata(int Status, Type? Type, bool NoContent = false);

/// <summary>Problem statuses an endpoint can answer with, documented as application/problem+json.</summary>
internal sealed record ApiProblemsMetadata(IReadOnlyList<int> Statuses);

internal static class ApiDocumentationExtensions
{
    public static RouteHandlerBuilder Returns<T>(this RouteHandlerBuilder builder, int status = StatusCodes.Status200OK) =>
        builder.WithMetadata(new ApiResponseMetadata(status, typeof(T)));

    public static RouteHandlerBuilder ReturnsNoContent(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new ApiResponseMetadata(StatusCodes.Status204NoContent, null, NoContent: true));

    public static RouteHandlerBuilder ReturnsProblems(this RouteHandlerBuilder builder, params int[] statuses) =>
        builder.WithMetadata(new ApiProblemsMetadata(statuses));

    public static RouteHandlerBuilder AcceptsJson<T>(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new RequestBodyMetadata(typeof(T)));

    public static RouteHandlerBuilder DocumentsAuthorizationHeader(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(AuthorizationHeaderDocumented.Instance);
}
