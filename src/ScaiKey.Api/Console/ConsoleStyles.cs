namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The console's one stylesheet, served from /console/console.css (the CSP allows styles from 'self' only). System
/// colours follow the user's light or dark setting; the layout works from 320 px up; focus is always visible.
/// </summary>
internal static class ConsoleStyles
{
    public const string Css = """
        :root { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; }
        body { margin: 0; background: Canvas; color: CanvasText; }
        a { color: LinkText; }
        .skip { position: absolute; left: -999px; top: 0; padding: 0.5rem; background: Canvas; }
        .skip:focus { left: 0.5rem; z-index: 10; }
        .top { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: center; padding: 0.75rem 1rem; border-bottom: 1px solid GrayText; }
        .brand { margin: 0; font-weight: 700; }
        .top nav ul { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; margin: 0; padding: 0; list-style: none; }
        .signout { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin-left: auto; }
        .who { overflow-wrap: anywhere; }
        main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.5rem; margin: 0.5rem 0 1rem; overflow-wrap: anywhere; }
        h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; }
        h3 { font-size: 1rem; margin: 1rem 0 0.5rem; }
        label, legend { display: block; font-weight: 600; margin: 0.75rem 0 0.25rem; }
        input, select { box-sizing: border-box; width: 100%; padding: 0.5rem; font: inherit; border: 1px solid CanvasText; border-radius: 0.25rem; background: Field; color: FieldText; }
        input[type=radio] { width: auto; margin: 0 0.5rem 0 0; }
        .choice { display: flex; align-items: baseline; }
        .choice label { display: inline; font-weight: 400; margin: 0.25rem 0; }
        fieldset { border: 1px solid GrayText; border-radius: 0.25rem; margin: 1rem 0; padding: 0.5rem 1rem; }
        :focus-visible { outline: 3px solid Highlight; outline-offset: 2px; }
        button, a.button { display: inline-block; margin-top: 0.75rem; padding: 0.55rem 1rem; font: inherit; font-weight: 600; border: 0; border-radius: 0.25rem; background: #1a56db; color: #fff; cursor: pointer; text-decoration: none; }
        button.secondary { margin-top: 0; background: transparent; color: CanvasText; border: 1px solid CanvasText; }
        button.danger, a.button.danger { background: #b91c1c; color: #fff; }
        .narrow { max-width: 30rem; }
        .filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: 0 1rem; align-items: end; }
        .filters .wide { grid-column: 1 / -1; }
        .hint { margin: 0.25rem 0 0; font-size: 0.875rem; }
        .errors { margin: 0 0 1rem; padding: 0.75rem 1rem; border: 2px solid #b91c1c; border-radius: 0.25rem; }
        .errors p { margin: 0; }
        .field-error { margin: 0.25rem 0 0; color: #b91c1c; font-weight: 600; }
        @media (prefers-color-scheme: dark) { .field-error { color: #fca5a5; } }
        input[aria-invalid=true] { border: 2px solid #b91c1c; }
        .notice { padding: 0.75rem 1rem; border: 2px solid #047857; border-radius: 0.25rem; }
        .table-scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid GrayText; vertical-align: top; overflow-wrap: anywhere; }
        tr.differs td { font-weight: 700; }
        .pager { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }
        .facts { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: 0.25rem 1rem; }
        .facts dt { font-weight: 600; }
        .facts dd { margin: 0; overflow-wrap: anywhere; }
        .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0; padding: 0; list-style: none; }
        .actions form { margin: 0; }
        .tag { display: inline-block; margin-left: 0.5rem; padding: 0 0.4rem; border: 1px solid GrayText; border-radius: 0.25rem; font-size: 0.85rem; }
        .secret-box code { display: inline-block; padding: 0.25rem 0.5rem; font-size: 1.2rem; border: 1px dashed CanvasText; overflow-wrap: anywhere; }
        textarea { box-sizing: border-box; width: 100%; padding: 0.5rem; font: inherit; border: 1px solid CanvasText; border-radius: 0.25rem; background: Field; color: FieldText; }
        textarea[aria-invalid=true] { border: 2px solid #b91c1c; }
        input[type=checkbox] { width: auto; margin: 0 0.5rem 0 0; }
        caption { text-align: left; font-weight: 600; padding: 0.25rem 0; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        .subnav ul { display: flex; flex-wrap: wrap; gap: 0.25rem 1.25rem; margin: 0 0 1rem; padding: 0; list-style: none; }
        .subnav a[aria-current=page] { font-weight: 700; }
        .tree, .tree .tree { margin: 0.25rem 0; padding-left: 1.25rem; }
        .inline-action { margin-left: 0.75rem; }
        """;
}
