using Microsoft.AspNetCore.Http.HttpResults;
using ScaiKey.Api.SignIn;

namespace ScaiKey.Api.AdminConsole;

/// <summary>What every console page shares: the strict headers, rendering a component, the sign-in gate and form tokens.</summary>
internal static class ConsolePages
{
    /// <summary>
    /// The hosted pages' policy, with the one difference that styles come from the console's own stylesheet rather
    /// than inline: no script at all, no other origin, forms only to this origin, never framed.
    /// </summary>
    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public const string StylesheetPath = "/console/console.css";

    private const string UserItem = "scaikey.console-user";

    public static void SetSecurityHeaders(HttpResponse response)
    {
        HostedPages.SetSecurityHeaders(response);
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
    }

    public static RazorComponentResult Render<TComponent>(HttpContext http, Dictionary<string, object?> parameters, int status = StatusCodes.Status200OK)
        where TComponent : Microsoft.AspNetCore.Components.IComponent
    {
        SetSecurityHeaders(http.Response);
        if (http.Items[UserItem] is ConsoleUser user)
        {
            parameters.TryAdd("Page", PageFrame(http, user));
        }

        return new RazorComponentResult<TComponent>(parameters) { StatusCode = status, ContentType = "text/html; charset=utf-8" };
    }

    /// <summary>What the page frame needs: who is signed in, their home tenant and the token for its forms.</summary>
    public static Components.Frame PageFrame(HttpContext http, ConsoleUser user) =>
        new(user.Email, user.TenantId, http.RequestServices.GetRequiredService<ConsoleFormTokens>().Issue(http, user.FormBinding));

    public static ConsoleUser Admin(this HttpContext http) =>
        http.Items[UserItem] as ConsoleUser ?? throw new InvalidOperationException("The console gate did not run.");

    /// <summary>
    /// The gate in front of every page but sign-in: a POST must carry the form token of this browser and this console
    /// session (checked first, so a forged request learns nothing), and a request without a console session goes to sign-in and comes back.
    /// The console checks nothing else: what the admin may do is the API's answer.
    /// </summary>
    public static async ValueTask<object?> GateAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        SetSecurityHeaders(http.Response);
        if (HttpMethods.IsPost(http.Request.Method))
        {
            var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
            if (!await http.RequestServices.GetRequiredService<ConsoleFormTokens>().IsValidAsync(http, form))
            {
                return Render<Components.MessagePage>(http, new()
                {
                    ["Heading"] = "Form expired", ["Text"] = "This form has expired or did not come from the console. Nothing was changed.",
                    ["LinkHref"] = "/console", ["LinkText"] = "Back to the console",
                }, StatusCodes.Status400BadRequest);
            }
        }

        var services = http.RequestServices;
        var user = await ConsoleSession.CurrentAsync(http, services.GetRequiredService<ConsoleApi>(), services.GetRequiredService<TimeProvider>(), http.RequestAborted);
        if (user is null)
        {
            var back = HttpMethods.IsGet(http.Request.Method) ? (http.Request.Path + http.Request.QueryString).ToString() : "/console";
            return Results.Redirect("/console/sign-in?return_url=" + Uri.EscapeDataString(back));
        }

        http.Items[UserItem] = user;
        return await next(context);
    }

    /// <summary>
    /// Only paths of the console itself are followed after sign-in (no open redirect), written in printable ASCII: a
    /// control or non-ASCII character would make the redirect's Location header throw (a 500 after a good sign-in).
    /// </summary>
    public static bool IsLocalConsoleUrl(string? url) =>
        url is { Length: > 0 and < 2048 } && url.StartsWith("/console", StringComparison.Ordinal) && !url.StartsWith("//", StringComparison.Ordinal)
        && !url.Contains('\\', StringComparison.Ordinal) && url.All(c => c is >= '!' and <= '~');
}
