using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;

namespace ScaiKey.Api.Tests;

/// <summary>Query input is validated by one endpoint filter (Http/RequestValidation.cs), not by each handler.</summary>
public sealed class RequestValidationTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private sealed class Failing(params string[] fields) : IValidatable
    {
        public void Validate(ValidationErrors errors)
        {
            foreach (var field in fields)
            {
                errors.Query(field, "bad " + field, "value_error");
            }
        }
    }

    [Fact]
    public async Task The_filter_answers_one_422_listing_every_argument_in_order_and_skips_the_handler()
    {
        var http = new DefaultHttpContext { RequestServices = app.Host.Services };
        http.Response.Body = new MemoryStream();
        var invocation = EndpointFilterInvocationContext.Create(http, new Failing("page", "per_page"), "route value", new Failing("search"));
        var handlerRan = false;
        var result = await RequestValidation.ValidateAsync(invocation, [0, 2], _ => { handlerRan = true; return ValueTask.FromResult<object?>(null); });

        Assert.False(handlerRan);
        await ((IResult)result!).ExecuteAsync(http);
        Assert.Equal(422, http.Response.StatusCode);
        http.Response.Body.Position = 0;
        Assert.Equal("""{"detail":[{"loc":["query","page"],"msg":"bad page","type":"value_error"},{"loc":["query","per_page"],"msg":"bad per_page","type":"value_error"},{"loc":["query","search"],"msg":"bad search","type":"value_error"}]}""",
            await new StreamReader(http.Response.Body).ReadToEndAsync());
    }

    [Fact]
    public async Task The_filter_lets_valid_input_through_to_the_handler()
    {
        var invocation = EndpointFilterInvocationContext.Create(new DefaultHttpContext(), new Failing(), "route value");
        var result = await RequestValidation.ValidateAsync(invocation, [0], _ => ValueTask.FromResult<object?>("handler"));
        Assert.Equal("handler", result);
    }

    [Fact]
    public void Every_route_taking_a_validatable_argument_is_in_a_group_that_validates_it()
    {
        var endpoints = app.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<MethodInfo>() is { } method && RequestValidation.Positions(method).Length > 0)
            .ToList();

        // Control: the lists and reads converted to the filter are among them.
        Assert.Contains(endpoints, e => e.RoutePattern.RawText!.TrimEnd('/').EndsWith("{tenant_id}/groups", StringComparison.Ordinal));
        Assert.True(endpoints.Count >= 17, $"only {endpoints.Count} routes take validatable input");
        var unvalidated = endpoints.Where(e => e.Metadata.GetMetadata<RequestValidation.Marker>() is null).Select(e => e.DisplayName).ToList();
        Assert.True(unvalidated.Count == 0, "not validated: " + string.Join(", ", unvalidated));
    }

    [Fact]
    public async Task A_list_with_bad_paging_and_search_answers_the_same_422_as_before()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var response = await admin.GetAsync($"/api/v1/tenants/{tenant}/groups?page=0&per_page=101&search={new string('s', 201)}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(422 == (int)response.StatusCode, body);
        Assert.Equal("""{"detail":[{"loc":["query","page"],"msg":"Input should be greater than or equal to 1","type":"greater_than_equal"},{"loc":["query","per_page"],"msg":"Input should be less than or equal to 100","type":"less_than_equal"},{"loc":["query","search"],"msg":"String should have at most 200 characters","type":"string_too_long"}]}""",
            body);

        // Control: the same list with good input.
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups?page=1&per_page=100&search=s")).ReadJsonAsync(200);
    }

    [Fact]
    public async Task The_platform_audit_list_reports_tenant_id_before_the_filters_it_shares()
    {
        using var admin = await app.AdminAsync();
        var response = await admin.GetAsync($"/api/v1/admin/audit-events?since=yesterday&tenant_id={new string('t', 65)}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(422 == (int)response.StatusCode, body);
        Assert.Equal("""{"detail":[{"loc":["query","tenant_id"],"msg":"String should have at most 64 characters","type":"string_too_long"},{"loc":["query","since"],"msg":"Input should be a valid datetime","type":"datetime_parsing"}]}""",
            body);
    }

    [Fact]
    public async Task Deleting_a_user_without_confirm_email_is_refused_by_the_filter()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var user = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users", new { email = "keep@example.com" })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        var response = await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{user}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(422 == (int)response.StatusCode, body);
        Assert.Equal("""{"detail":[{"loc":["query","confirm_email"],"msg":"Field required","type":"missing"}]}""", body);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ReadJsonAsync(200);
    }
}
