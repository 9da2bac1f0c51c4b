using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ScaiKey.Api.AdminConsole;

/// <summary>The admin console at /console: server-rendered Razor components over ScaiKey's own public API.</summary>
internal static class ConsoleSetup
{
    public static IServiceCollection AddAdminConsole(this IServiceCollection services)
    {
        services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConsoleOptions>, ConsoleOptionsValidator>();
        services.AddRazorComponents();
        services.AddHttpClient<ConsoleApi>((sp, client) =>
        {
            // Unknown (no issuer, no listening address: an in-memory test server) leaves it unset; a call then fails.
            client.BaseAddress = ConsoleApi.BaseAddress(sp);
            client.Timeout = TimeSpan.FromSeconds(30);
        }).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
            .AddHttpMessageHandler<ConsoleClientAddressHandler>();
        services.AddSingleton<ConsoleClientAddress>();
        services.AddTransient<ConsoleClientAddressHandler>();
        ConsoleSession.AddConsoleSession(services);
        return services;
    }

    public static void MapAdminConsole(this IEndpointRouteBuilder app)
    {
        // The API routes the console needs that curl users benefit from as well.
        Access.CallerPermissionEndpoints.MapCallerPermissions(app);
        Users.UserSupportEndpoints.MapUserSupport(app);

        var open = app.MapGroup("/console").AllowAnonymous().ExcludeFromDescription();
        open.MapGet("/console.css", (HttpContext http) =>
        {
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Text(ConsoleStyles.Css, "text/css; charset=utf-8");
        });
        ConsoleSignInEndpoints.Map(open);

        var pages = app.MapGroup("/console").AllowAnonymous().ExcludeFromDescription().AddEndpointFilter(ConsolePages.GateAsync);
        pages.MapGet("", HomeAsync);
        UserPages.Map(pages);
        UserActions.Map(pages);
        TenantPages.Map(pages);
        pages.MapApplicationAndCredentialPages();
        TenancyPages.MapTenancyPages(pages);
        pages.MapDirectoryPages();
    }

    /// <summary>
    /// Where an admin starts: the tenants list when the API lets them read it (platform and partner admins), else
    /// their own tenant's users.
    /// </summary>
    private static async Task<IResult> HomeAsync(HttpContext http, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var user = http.Admin();
        var tenants = await api.GetAsync(user.AccessToken, "api/v1/admin/tenants?per_page=1", ct);
        return Results.Redirect(tenants.IsSuccess ? "/console/tenants" : $"/console/tenants/{Uri.EscapeDataString(user.TenantId)}/users");
    }
}
