import { IsDateString, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/** `GET /api/v1/audit/events`: the admin filters, a page size and an opaque cursor. */
export class AuditApiQueryDto {
  @IsOptional() @IsString() @MaxLength(100) tag?: string;
  @IsOptional() @IsString() @MaxLength(100) actor?: string;
  @IsOptional() @IsString() @MaxLength(100) user?: string;
  @IsOptional() @IsString() @MaxLength(200) project?: string;
  @IsOptional() @IsString() @MaxLength(50) ip?: string;
  @IsOptional()
  @IsDateString({}, { message: 'since must be an ISO 8601 date or time' })
  since?: string;
  @IsOptional()
  @IsDateString({}, { message: 'until must be an ISO 8601 date or time' })
  until?: string;
  @IsOptional() @IsString() @MaxLength(200) q?: string;
  @IsOptional()
  @Matches(/^\d{1,3}$/, { message: 'limit must be a whole number from 1 to 500' })
  limit?: string;
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'cursor must be a `next` value this API returned' })
  cursor?: string;
}
