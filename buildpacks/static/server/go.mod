module paas.dev/buildpacks/static/server

go 1.22
