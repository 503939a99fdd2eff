import {
  Controller,
  Get,
  Header,
  Headers,
  Inject,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { Public } from '../accounts/auth/auth.decorators.js';
import { Metrics, PROMETHEUS_CONTENT_TYPE } from './metrics.js';

const HEALTH_TIMEOUT_MS = 2000;

/** Public to the auth guard; /metrics has its own bearer token (LARDER_METRICS_TOKEN). */
@Controller()
@Public()
export class OpsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: Metrics,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** 200 only when the database answers, within two seconds. */
  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  async health(): Promise<{ status: 'ok' }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), HEALTH_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.dataSource.query('SELECT 1'), timeout]);
      return { status: 'ok' };
    } catch {
      throw new ServiceUnavailableException('database unavailable');
    } finally {
      clearTimeout(timer);
    }
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  async prometheus(@Headers('authorization') authorization?: string): Promise<string> {
    const expected = this.config.metricsToken;
    if (expected !== undefined) {
      const given = Buffer.from(authorization ?? '');
      const wanted = Buffer.from(`Bearer ${expected}`);
      if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
        throw new UnauthorizedException(
          'metrics need the bearer token set in LARDER_METRICS_TOKEN',
        );
      }
    }
    return this.metrics.registry.metrics();
  }
}
