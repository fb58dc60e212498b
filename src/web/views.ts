// Template options a route may pass with its locals (EJS takes a few options from the data it renders).

/**
 * Render a view without EJS's `with (locals)` block: a template compiled with it looks every name up through a dynamic
 * scope — its own output function and escaper included, a few dozen times per row of a list — which made the mailbox
 * list's 50 rows render in ≈ 1.6 of the time (decision 040). Such a view reads each local from `locals` itself (a
 * `const { … } = locals` at its top), and so must every partial it includes: EJS caches a partial compiled once, in
 * whichever mode the first page that included it asked for, so those partials read their names that way too.
 */
export const WITHOUT_WITH = { _with: false } as const;
