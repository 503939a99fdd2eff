import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HookBus } from './hook-bus.js';
import { HookDiscovery } from './hook-discovery.js';

@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [HookBus, HookDiscovery],
  exports: [HookBus],
})
export class HooksModule {}
