/** Injection token for the pino logger. */
export const LOGGER = Symbol('larder.logger');
