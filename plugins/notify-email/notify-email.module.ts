import { Module } from '@nestjs/common';
import { Mailer } from './mailer.js';
import { NotifyEmailHooks } from './notify-email.hooks.js';

@Module({ providers: [Mailer, NotifyEmailHooks], exports: [Mailer] })
export class NotifyEmailModule {}
