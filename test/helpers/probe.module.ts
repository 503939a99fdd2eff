import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { IsInt, IsString, Length, Min } from 'class-validator';
import { CsrfExempt, Public } from '../../src/accounts/auth/auth.decorators.js';
import { requestContext } from '../../src/context/request-context.js';

class EchoDto {
  @IsString()
  @Length(1, 20)
  name: string;

  @IsInt()
  @Min(1)
  count: number;
}

/** Test-only routes that exercise the global pipeline: context, validation, errors. */
// Public JSON routes: the auth guard lets anyone in, and the POST probe has no browser form.
@Controller('probe')
@Public()
@CsrfExempt()
class ProbeController {
  @Get('context')
  context() {
    const { requestId, ip, userAgent, route, actor } = requestContext();
    return { requestId, ip, userAgent, route, actor };
  }

  @Post('echo')
  echo(@Body() body: EchoDto) {
    return body;
  }

  @Get('boom')
  boom(): never {
    throw new Error('internal detail: password=hunter2 at /srv/secret/path.ts:12');
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
