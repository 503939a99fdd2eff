/**
 * Every core entity, listed explicitly (ESM: no globs). A feature adds its entities here and
 * generates a migration for them; the schema test fails until the two agree.
 */
export const coreEntities: Function[] = [];
