import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

/** Lengths are capped generously here; the rules themselves live in the services. */
export class LoginDto {
  @IsString()
  @MaxLength(100)
  username: string;

  @IsString()
  @MaxLength(1024)
  password: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  next?: string;
}

export class SecondFactorDto {
  @IsString()
  @MaxLength(1000)
  ticket: string;

  @IsOptional()
  @IsString()
  @MaxLength(20)
  totp_value?: string;

  @IsOptional()
  @IsString()
  @MaxLength(40)
  recovery_code?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  next?: string;
}

export class RegisterDto {
  @IsString()
  @MaxLength(100)
  username: string;

  @IsString()
  @MaxLength(254)
  email: string;

  @IsString()
  @MaxLength(1024)
  password: string;

  @IsString()
  @MaxLength(1024)
  password_confirm: string;
}

export class ResetRequestDto {
  @IsString()
  @MaxLength(254)
  username_or_email: string;
}

export class ResetConfirmDto {
  @IsString()
  @MaxLength(1000)
  token: string;

  @IsString()
  @MaxLength(1024)
  new_password: string;

  @IsString()
  @MaxLength(1024)
  password_confirm: string;
}

export class TokenQueryDto {
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  token?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  next?: string;
}

export class TwoFactorChoiceDto {
  @IsOptional()
  @IsIn(['totp', 'recovery'])
  method?: 'totp' | 'recovery';
}
