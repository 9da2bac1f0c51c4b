using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Authentication;
using ScaiKey.Api.Scim.Language;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Scim;

/// <summary>SCIM 2.0 provisioning (issue 16): the token API, the /scim/v2 authentication and endpoints.</summary>
internal static class ScimSetup
{
    public const string BasePath = "/scim/v2";

    /// <summary>/scim/v2 only: a SCIM token authenticated by <see cref="ScimAuthenticationHandler"/>, and nothing else.</summary>
    public const string Policy = "scaikey.scim";

    public static IServiceCollection AddScimProvisioning(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ScimOptions>().Bind(configuration.GetSection(ScimOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ScimOptions>, ScimOptionsValidator>();
        services.AddScoped<ScimUserService>();
        services.AddScoped<ScimGroupService>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ScimAuthenticationHandler>(ScimAuthenticationHandler.SchemeName, null);

        // On /scim/v2 the API's bearer scheme hands over to the SCIM scheme, so a user's or admin client's token is
        // never validated (nor accepted) there; everywhere else a scim_ token is just an invalid bearer token (401).
        services.Configure<AuthenticationSchemeOptions>(BearerAuthenticationHandler.SchemeName, options =>
            options.ForwardDefaultSelector = http => ScimAuthenticationHandler.IsScimPath(http.Request.Path) ? ScimAuthenticationHandler.SchemeName : null);
        services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy
            .AddAuthenticationSchemes(ScimAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .RequireClaim(ScaiKeyClaims.PrincipalType, ScimAuthenticationHandler.PrincipalType));
        return services;
    }

    public static void MapScim(this WebApplication app)
    {
        app.MapScimTokens();
        var scim = app.MapGroup(BasePath).RequireAuthorization(Policy).AddEndpointFilter(RefuseUnexpectedAsync);
        ScimDiscoveryEndpoints.MapDiscovery(scim);
        ScimResourceEndpoints.MapResources<ScimUserService>(scim, "/Users");
        ScimResourceEndpoints.MapResources<ScimGroupService>(scim, "/Groups");
        ScimBulkEndpoint.MapBulk(scim);
    }

    /// <summary>
    /// Whatever escapes a SCIM handler is still answered in SCIM's Error schema (provisioning clients parse only that),
    /// without the exception's text; the error middleware's logging is kept.
    /// </summary>
    private static async ValueTask<object?> RefuseUnexpectedAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            return await next(context);
        }
        catch (HashingQueueFullException ex)
        {
            Errors.Problems.SetRetryAfter(http.Response, ex.RetryAfter);
            return ScimResults.Error(new ScimError(503, null, "The service is busy; retry after the time given in Retry-After."));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ScaiKey.Scim")
                .LogError(ex, "Unhandled exception for {Method} {Path}", http.Request.Method, http.Request.Path);
            return ScimResults.Error(new ScimError(500, null, "The server could not complete the request. Quote the request id when reporting it: " + http.TraceIdentifier));
        }
    }
}
