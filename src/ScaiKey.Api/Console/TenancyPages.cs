namespace ScaiKey.Api.AdminConsole;

/// <summary>The partners and tenants page group: partners, a new tenant with its first admin, a tenant's settings.</summary>
internal static class TenancyPages
{
    public static void MapTenancyPages(this RouteGroupBuilder console)
    {
        PartnerPages.Map(console);
        TenantActions.Map(console);
        TenantSettingsPages.Map(console);
    }
}
