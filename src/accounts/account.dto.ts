import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

/** Sensitive forms carry the password again when the sign-in is older than 15 minutes. */
export class SensitiveFormDto {
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  confirm_password?: string;
}

export class AddEmailDto extends SensitiveFormDto {
  @IsString()
  @MaxLength(254)
  email: string;
}

export class ChangePasswordDto {
  @IsString()
  @MaxLength(1024)
  current_password: string;

  @IsString()
  @MaxLength(1024)
  new_password: string;

  @IsString()
  @MaxLength(1024)
  password_confirm: string;
}

export class TotpConfirmDto extends SensitiveFormDto {
  @IsString()
  @MaxLength(20)
  totp_value: string;
}

export class CreateTokenDto extends SensitiveFormDto {
  @IsString()
  @MaxLength(100)
  name: string;

  @IsOptional()
  @IsIn(['account', 'projects'])
  scope?: 'account' | 'projects';

  /** Project names separated by commas, spaces or new lines. */
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  projects?: string;

  /** Days until it expires; empty: never. */
  @IsOptional()
  @IsString()
  @MaxLength(10)
  expires_days?: string;
}
