import 'reflect-metadata';
import { createApp } from './boot.js';
import { ConfigError, loadConfig } from './config/config.js';
import { DataDirInUseError } from './database/embedded-postgres.js';
import { createLogger } from './ops/logger.js';
import { PluginLoadError } from './plugin-host/plugin-load.error.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`larder: configuration error: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger(config.logLevel);
const started = Date.now();

try {
  const running = await createApp(config, logger);
  await running.app.listen(config.port, config.host);
  const address = running.app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { url: config.baseUrl, port, database: running.database.kind, ms: Date.now() - started },
    `Larder listening on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    try {
      await running.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error while shutting down');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
} catch (error) {
  if (error instanceof DataDirInUseError || error instanceof PluginLoadError) {
    process.stderr.write(`larder: ${error.message}\n`);
  } else {
    logger.fatal({ err: error }, 'failed to start');
  }
  process.exit(1);
}
