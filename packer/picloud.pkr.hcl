# Packer template for the PiCloud SD-card image. It only drives
# image/build.sh (the same script works without Packer): the `null` source and
# `shell-local` provisioners need no plugin download, so Debian's packer
# (1.6.6) runs it offline.
#
#   sudo packer build packer/picloud.pkr.hcl            (from the repo root)
#   sudo packer build -var version=1.2.3 -var agent=/path/to/picloud-arm64 packer/picloud.pkr.hcl

variable "version" {
  type        = string
  default     = ""
  description = "Image version; empty: git describe."
}

variable "agent" {
  type        = string
  default     = ""
  description = "Prebuilt linux/arm64 picloud binary; empty: build ./cmd/picloud."
}

variable "output_dir" {
  type    = string
  default = "image/out"
}

variable "compress" {
  type        = bool
  default     = true
  description = "Write the .img.xz, its .sha256 and the Imager manifest (xz takes minutes)."
}

variable "boot_test" {
  type        = bool
  default     = false
  description = "Also boot the image under qemu and run image/boottest.sh."
}

source "null" "picloud" {
  communicator = "none"
}

build {
  sources = ["source.null.picloud"]

  provisioner "shell-local" {
    inline = [
      "set -e",
      "${path.root}/../image/build.sh --out '${var.output_dir}' ${var.version != "" ? "--version '${var.version}'" : ""} ${var.agent != "" ? "--agent '${var.agent}'" : ""} ${var.compress ? "" : "--no-compress"}",
    ]
    inline_shebang = "/bin/bash -e"
  }

  provisioner "shell-local" {
    inline = [
      "${var.boot_test ? "${path.root}/../image/boottest.sh \"$(ls -1t '${var.output_dir}'/picloud-*-arm64.img | head -n1)\"" : "true"}",
    ]
    inline_shebang = "/bin/bash -e"
  }
}
