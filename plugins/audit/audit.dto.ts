import { IsDateString, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const ID = /^\d{1,19}$/;

/** Query of the Security history pages: event type, date range, keyset cursors. */
export class HistoryQueryDto {
  @IsOptional() @IsString() @MaxLength(100) tag?: string;
  @IsOptional() @IsDateString() since?: string;
  @IsOptional() @IsDateString() until?: string;
  @IsOptional() @Matches(ID) before?: string;
  @IsOptional() @Matches(ID) after?: string;
}

/** Query of the admin Audit log: the history filters plus actor, account, project, IP, text. */
export class AuditLogQueryDto extends HistoryQueryDto {
  @IsOptional() @IsString() @MaxLength(100) actor?: string;
  @IsOptional() @IsString() @MaxLength(100) user?: string;
  @IsOptional() @IsString() @MaxLength(200) project?: string;
  /** An IPv4/IPv6 address or CIDR. */
  @IsOptional() @Matches(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/) ip?: string;
  @IsOptional() @IsString() @MaxLength(200) q?: string;
}

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The admin export: the Audit log's filters plus the file format. */
export class AuditExportQueryDto extends AuditLogQueryDto {
  @IsIn(EXPORT_FORMATS, { message: 'format must be csv or jsonl' }) format: ExportFormat;
}
