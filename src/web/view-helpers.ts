import type hbsModule from 'hbs';

/** Small helpers every template may use; all output stays escaped unless a helper says so. */
export function registerViewHelpers(hbs: typeof hbsModule): void {
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('isoDate', (value: Date | string | null | undefined) =>
    value ? new Date(value).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '',
  );
}
