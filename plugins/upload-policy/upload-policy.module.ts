import { Module } from '@nestjs/common';
import { UploadPolicyHooks } from './upload-policy.hooks.js';

@Module({ providers: [UploadPolicyHooks] })
export class UploadPolicyModule {}
