import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

export class AdminCreateUserDto {
  @IsString()
  @MaxLength(100)
  username: string;

  @IsString()
  @MaxLength(254)
  email: string;

  /** Empty: the user gets a link to choose one. */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;

  /** A checkbox: `on` when ticked. */
  @IsOptional()
  @IsIn(['on', 'true', '1'])
  admin?: string;
}

export class AdminDisableDto {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  reason?: string;
}
