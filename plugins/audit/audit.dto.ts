import { IsDateString, IsIn, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';

const ID = /^\d{1,19}$/;

/**
 * Optional, and empty counts as absent: the filter form submits every field, so an unset
 * date arrives as `since=` (IsOptional alone lets only null and undefined through).
 */
const Optional = () =>
  ValidateIf((_, value) => value !== undefined && value !== null && value !== '');

/** Query of the Security history pages: event type, date range, keyset cursors. */
export class HistoryQueryDto {
  @Optional() @IsString() @MaxLength(100) tag?: string;
  @Optional() @IsDateString() since?: string;
  @Optional() @IsDateString() until?: string;
  @Optional() @Matches(ID) before?: string;
  @Optional() @Matches(ID) after?: string;
}

/** Query of the admin Audit log: the history filters plus actor, account, project, IP, text. */
export class AuditLogQueryDto extends HistoryQueryDto {
  @Optional() @IsString() @MaxLength(100) actor?: string;
  @Optional() @IsString() @MaxLength(100) user?: string;
  @Optional() @IsString() @MaxLength(200) project?: string;
  /** An IPv4/IPv6 address or CIDR. */
  @Optional() @Matches(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/) ip?: string;
  @Optional() @IsString() @MaxLength(200) q?: string;
}

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The admin export: the Audit log's filters plus the file format. */
export class AuditExportQueryDto extends AuditLogQueryDto {
  @IsIn(EXPORT_FORMATS, { message: 'format must be csv or jsonl' }) format: ExportFormat;
}
