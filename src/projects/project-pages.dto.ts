import { IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { PROJECT_ROLES, type ProjectRoleName } from '../accounts/auth/auth.types.js';

export class YankDto {
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class ConfirmVersionDto {
  @IsString()
  @Length(1, 100)
  confirm_version: string;
}

export class DeleteFileDto {
  @IsString()
  @Length(1, 255)
  filename: string;
}

export class ConfirmProjectDto {
  @IsString()
  @Length(1, 200)
  confirm_project_name: string;
}

export class InviteDto {
  @IsString()
  @Length(1, 50)
  username: string;

  @IsIn(PROJECT_ROLES)
  role: ProjectRoleName;
}

export class ChangeRoleDto {
  @IsIn(PROJECT_ROLES)
  role: ProjectRoleName;
}
