using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Cli;

/// <summary>
/// `scaikey seed`: tenants full of plausible users for benchmarks and demos, through the import's bulk writer.
/// Names come from a fixed-seed generator, so runs are alike and a surname matches a predictable share of users
/// (about 1 in 240, 0.4 %, plus substring hits).
/// </summary>
internal static class SeedCommand
{
    public const string AuditActor = "cli:seed";

    public static async Task<int> RunAsync(CliArgs args, IServiceProvider services, CliConsole console, CancellationToken ct)
    {
        var tenantCount = args.Int("tenants", 1, 1, 10_000);
        var firstUsers = args.Int("users", 1000, 0, 50_000_000);
        var otherUsers = args.Int("other-users", 1000, 0, 50_000_000);
        var password = args.String("password");
        var partnerArg = args.String("partner");
        args.RejectUnknown(maxPositional: 0);

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        var hasher = scope.ServiceProvider.GetRequiredService<PasswordHasher>();
        var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
        var time = scope.ServiceProvider.GetRequiredService<TimeProvider>();

        var partnerId = await PartnerAsync(db, audit, time, partnerArg, ct);

        // One hash for everyone: Argon2id costs tens of milliseconds per password by design, so a million separately
        // salted hashes would take hours. Sign-in works the same; the shared salt only matters for real accounts.
        var passwordHash = password is null ? null : hasher.Hash(password);

        var run = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
        var tenants = new List<TenantContext>();
        for (var k = 1; k <= tenantCount; k++)
        {
            var tenant = new Tenant
            {
                Id = Ids.New(),
                Name = $"Seed {run} tenant {k}",
                Slug = $"seed-{run}-{k}",
                PartnerId = partnerId,
                SettingsJson = TenantSettings.Default.ToJson(),
                CreatedAt = time.UtcNow(),
            };
            db.Tenants.Add(tenant);
            audit.RecordAs(SignInService.SystemActor, AuditActor, "tenant.created", "tenant", tenant.Id, tenant.Id, ["name", "slug", "partner_id", "settings"]);
            tenants.Add(new TenantContext(tenant.Id, tenant.PartnerId, tenant.Slug, tenant.Name, tenant.SettingsJson));
        }

        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();

        var counts = tenants.Select((_, i) => i == 0 ? firstUsers : otherUsers).ToArray();
        var progress = new ProgressBar(console, "seed", counts.Sum(c => (long)c));
        var done = 0L;
        await using (var writer = await UserBulkWriter.OpenAsync(db, ct))
        {
            for (var t = 0; t < tenants.Count; t++)
            {
                var tenant = tenants[t];
                var generator = new SeedUsers(tenant, (ulong)t + 1, counts[t], passwordHash, time.UtcNow());
                for (var start = 0; start < counts[t]; start += ImportCommand.DefaultBatchSize)
                {
                    var users = generator.Batch(start, Math.Min(ImportCommand.DefaultBatchSize, counts[t] - start));
                    var reason = $"seed {run}: users {start + 1}-{start + users.Count}";
                    await writer.WriteAsync(users, [], async () =>
                    {
                        audit.RecordAs(SignInService.SystemActor, AuditActor, ImportCommand.AuditAction, "tenant", tenant.Id, tenant.Id, ["users"], reason);
                        await db.SaveChangesAsync(ct);
                    }, ct);
                    done += users.Count;
                    progress.Report(done);
                }
            }

            await writer.FinishAsync(ct);
        }

        progress.Finish();
        var result = new { tenants = tenants.Select((t, i) => new { id = t.Id, slug = t.Slug, users = counts[i] }) };
        await console.Out.WriteLineAsync(JsonSerializer.Serialize(result));
        await console.Out.FlushAsync(ct);
        return CliRunner.Success;
    }

    private static async Task<string> PartnerAsync(ScaiKeyDbContext db, AuditLog audit, TimeProvider time, string? partnerArg, CancellationToken ct)
    {
        if (partnerArg is not null)
        {
            return await db.Partners.AnyAsync(p => p.Id == partnerArg, ct)
                ? partnerArg
                : throw new CliUsageException($"no partner with id '{partnerArg}'.");
        }

        if (await db.Partners.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).Select(p => p.Id).FirstOrDefaultAsync(ct) is { } first)
        {
            return first;
        }

        var partner = new Partner { Id = Ids.New(), Name = "Seed partner", CreatedAt = time.UtcNow() };
        db.Partners.Add(partner);
        audit.RecordAs(SignInService.SystemActor, AuditActor, "partner.created", "partner", partner.Id, null, ["name"]);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        return partner.Id;
    }
}

/// <summary>Deterministic users for one tenant: the same seed gives the same names, emails and dates.</summary>
internal sealed class SeedUsers(TenantContext tenant, ulong seed, int count, string? passwordHash, DateTime now)
{
    private static readonly TimeSpan History = TimeSpan.FromDays(3 * 365);

    private static readonly string[] FirstNames =
    [
        "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger", "Katherine", "Donald",
        "Radia", "Tim", "Sophie", "Guido", "Hedy", "John", "Mary", "James", "Patricia", "Robert", "Jennifer", "Michael",
        "Linda", "William", "Elizabeth", "David", "Susan", "Richard", "Jessica", "Joseph", "Sarah", "Thomas", "Karen",
        "Charles", "Nancy", "Christopher", "Lisa", "Daniel", "Betty", "Matthew", "Sandra", "Anthony", "Ashley", "Mark",
        "Kimberly", "Paul", "Emily", "Steven", "Donna", "Andrew", "Michelle", "Joshua", "Carol", "Kevin", "Amanda", "Brian",
        "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca", "Jason", "Sharon", "Edward", "Laura",
        "Jeffrey", "Cynthia", "Ryan", "Amy", "Jacob", "Angela", "Gary", "Helen", "Nicholas", "Anna", "Eric", "Brenda",
        "Jonathan", "Pamela", "Stephen", "Emma", "Larry", "Nicole", "Justin", "Samantha", "Scott", "Katherine", "Brandon",
        "Christine", "Benjamin", "Debra", "Samuel", "Rachel", "Gregory", "Carolyn", "Alexander", "Janet", "Patrick",
        "Maria", "Frank", "Olivia", "Raymond", "Heather", "Jack", "Diane", "Dennis", "Julie", "Jerry", "Joyce", "Tyler",
        "Victoria", "Aaron", "Ruth", "Jose", "Virginia", "Adam", "Lauren", "Nathan", "Kelly", "Henry", "Christina",
        "Zachary", "Joan", "Douglas", "Evelyn", "Peter", "Judith", "Kyle", "Andrea", "Noah", "Hannah", "Ethan", "Megan",
        "Jeremy", "Cheryl", "Walter", "Jacqueline", "Christian", "Martha", "Keith", "Madison", "Roger", "Teresa", "Terry",
        "Gloria", "Austin", "Sara", "Sean", "Janice", "Gerald", "Ann", "Carl", "Kathryn", "Harold", "Abigail", "Dylan",
        "Sophia", "Arthur", "Frances", "Lawrence", "Jean", "Jordan", "Alice", "Jesse", "Judy", "Bryan", "Isabella", "Billy",
        "Julia", "Bruce", "Grace", "Gabriel", "Amber", "Joe", "Denise", "Logan", "Danielle", "Alan", "Marilyn", "Juan",
        "Beverly", "Albert", "Charlotte", "Willie", "Natalie", "Elijah", "Theresa", "Wayne", "Diana", "Randy", "Brittany",
        "Vincent", "Doris", "Mason", "Kayla", "Roy", "Alexis", "Ralph", "Lori", "Bobby", "Marie", "Russell", "Yuki",
        "Hiroshi", "Mei", "Wei", "Priya", "Arjun", "Fatima", "Omar", "Ingrid", "Lars", "Chiara", "Luca", "Amara", "Kwame",
        "Sofia", "Mateo", "Aisha", "Hamza", "Elif", "Emre", "Nadia", "Dmitri", "Zofia", "Piotr",
    ];

    private static readonly string[] LastNames =
    [
        "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen", "Dijkstra",
        "Johnson", "Knuth", "Perlman", "Berners", "Wilson", "Rossum", "Lamarr", "Backus", "Shelley", "Smith", "Williams",
        "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez",
        "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Thompson", "White", "Harris", "Sanchez", "Clark",
        "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
        "Adams", "Nelson", "Baker", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner",
        "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers",
        "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox",
        "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
        "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell",
        "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes", "Gonzales", "Fisher",
        "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin",
        "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar",
        "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "McDonald", "Woods",
        "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb", "Tucker", "Guzman", "Burns",
        "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason",
        "Dixon", "Munoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone",
        "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols",
        "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "Arnold",
        "Pierce", "Hansen", "Peters", "Santos", "Hart", "Bradley", "Knight", "Elliott", "Cunningham", "Duncan", "Armstrong",
        "Hudson", "Carroll", "Lane", "Riley", "Andrews", "Ray", "Berry", "Perkins", "Hoffman", "Tanaka", "Yamamoto",
        "Nakamura", "Okafor", "Okonkwo", "Mensah", "Kowalski", "Novak", "Horvat", "Jensen", "Lindqvist", "Rossi", "Bianchi",
        "Ferrari", "Dubois", "Lefebvre", "Moreau", "Schneider", "Fischer", "Weber", "Becker", "Ivanova", "Petrov",
        "Yilmaz", "Kaya", "Haddad", "Khan", "Sharma", "Gupta", "Iyer", "Zhang", "Wang", "Liu", "Huang", "Park", "Choi",
    ];

    private static readonly string[] Domains =
    [
        "example.com", "example.org", "example.net", "mail.example.com", "corp.example.com", "acme.example", "globex.example",
        "initech.example", "umbrella.example", "hooli.example",
    ];

    private static readonly string[] Locales = ["en", "en", "en", "en-GB", "en-US", "de", "fr", "es", "pt-BR", "it", "nl", "ja", "pl"];

    private static readonly string[] Timezones =
    [
        "UTC", "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago",
        "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney",
    ];

    private ulong _state = seed * 0x9E3779B97F4A7C15UL;

    public List<User> Batch(int start, int size)
    {
        var users = new List<User>(size);
        var step = History.Ticks / Math.Max(1, count);
        for (var i = start; i < start + size; i++)
        {
            var first = Pick(FirstNames);
            var last = Pick(LastNames);
            var domain = Pick(Domains);
            var n = i + 1;
            var input = new UserCreate(
                $"{first.ToLowerInvariant()}.{last.ToLowerInvariant()}{n}@{domain}",
                Next(100) < 60 ? $"{char.ToLowerInvariant(first[0])}{last.ToLowerInvariant()}{n}" : null,
                first,
                last,
                $"{first} {last}",
                Next(100) < 30 ? "+1" + (2_000_000_000L + (long)Next(7_999_999_999UL)).ToString(CultureInfo.InvariantCulture) : null,
                Pick(Locales),
                Pick(Timezones),
                null,
                null,
                [],
                null,
                false,
                false);

            // Creation spread over three years, oldest first; most users have signed in at some point since.
            var created = now - History + TimeSpan.FromTicks(step * i);
            created = new DateTime(created.Ticks - (created.Ticks % 10), DateTimeKind.Utc);
            var user = UserInput.NewUser(tenant, input, passwordHash, created);
            if (Next(100) < 70)
            {
                var login = created + TimeSpan.FromTicks((long)Next((ulong)Math.Max(1, (now - created).Ticks)));
                user.LastLoginAt = new DateTime(login.Ticks - (login.Ticks % 10), DateTimeKind.Utc);
            }

            users.Add(user);
        }

        return users;
    }

    private T Pick<T>(T[] items) => items[Next((ulong)items.Length)];

    private int Next(int bound) => (int)Next((ulong)bound);

    // SplitMix64: tiny, fast, and the same sequence on every machine (System.Random's algorithm may change).
    private ulong Next(ulong bound)
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (z ^ (z >> 31)) % bound;
    }
}
